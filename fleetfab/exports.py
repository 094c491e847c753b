"""Values one host publishes for other hosts' desired state.

Exports are read in their own phase, after every host's `prepare` resources
are in place and before any host's desired state is computed.
"""

from __future__ import annotations

import threading

from fleetfab.redact import Redactor


class MissingExport(Exception):
    def __init__(self, host: str, role: str, key: str, why: str):
        self.host, self.role, self.key = host, role, key
        super().__init__(f"{role} value {key!r} of host {host} is not available: {why}")


class ExportBook:
    """Thread-safe store of exported values, and of why any are missing."""

    def __init__(self, redactor: Redactor):
        self._values: dict[tuple[str, str, str], str] = {}
        self._missing: dict[tuple[str, str, str], str] = {}
        self._lock = threading.Lock()
        self._redact = redactor

    def put(self, host: str, role: str, key: str, value: str, secret: bool = False) -> None:
        if secret:
            self._redact.add(value)
        with self._lock:
            self._values[(host, role, key)] = value

    def missing(self, host: str, role: str, key: str, why: str) -> None:
        with self._lock:
            self._missing[(host, role, key)] = why

    def get(self, host: str, role: str, key: str) -> str:
        with self._lock:
            if (host, role, key) in self._values:
                return self._values[(host, role, key)]
            why = self._missing.get((host, role, key), "it was not read in this run")
        raise MissingExport(host, role, key, why)
