"""Values one host publishes for other hosts' desired state.

A publishing host's exports are read once its `prepare` resources are in
place. A host whose desired state needs one waits for that publisher alone,
not for the whole fleet.
"""

from __future__ import annotations

import threading

from fleetfab.redact import Redactor


class MissingExport(Exception):
    def __init__(self, host: str, role: str, key: str, why: str):
        self.host, self.role, self.key = host, role, key
        super().__init__(f"{role} value {key!r} of host {host} is not available: {why}")


class ExportBook:
    """Thread-safe store of exported values, and of why any are missing.

    A value of a host in `publishers` is waited for until that host is
    `settle`d: its exports were read, or it failed.
    """

    def __init__(self, redactor: Redactor, publishers: list[str] = ()):
        self._values: dict[tuple[str, str, str], str] = {}
        self._missing: dict[tuple[str, str, str], str] = {}
        self._lock = threading.Lock()
        self._redact = redactor
        self._settled = {host: threading.Event() for host in publishers}

    def settle(self, host: str) -> None:
        """Everything `host` will publish in this run is in the book."""
        if host in self._settled:
            self._settled[host].set()

    def put(self, host: str, role: str, key: str, value: str, secret: bool = False) -> None:
        if secret:
            self._redact.add(value)
        with self._lock:
            self._values[(host, role, key)] = value

    def missing(self, host: str, role: str, key: str, why: str) -> None:
        with self._lock:
            self._missing[(host, role, key)] = why

    def get(self, host: str, role: str, key: str) -> str:
        if host in self._settled:
            self._settled[host].wait()
        with self._lock:
            if (host, role, key) in self._values:
                return self._values[(host, role, key)]
            why = self._missing.get((host, role, key), "it was not read in this run")
        raise MissingExport(host, role, key, why)
