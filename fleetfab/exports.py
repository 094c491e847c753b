"""Values one host publishes for other hosts' desired state.

A publishing host's exports are read once its `prepare` resources are in
place. A host whose desired state needs one waits for that publisher alone,
not for the whole fleet.

A publisher that cannot be read now (down, refusing, failed mid-run) must
not stop its consumers: a public value it published in an earlier run is
taken from the controller's memory (`fleetfab.memory`), and every report
that used one says so. Only a value never read and not remembered, or a
secret (never remembered), is missing; then only what needs it waits.

Every value, read now or remembered, must fit its export's shape before
any desired state sees it: a value that does not is refused, named with
its publishing host and why, and what needs it is blocked. A refused
value is never remembered, and never replaced by an older one: the host
that printed it may be compromised, and its peers must hear of it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from fleetfab.memory import ExportMemory, now
from fleetfab.redact import Redactor
from fleetfab.shapes import Shape


class MissingExport(Exception):
    def __init__(self, host: str, role: str, key: str, why: str):
        self.host, self.role, self.key, self.why = host, role, key, why
        super().__init__(f"{role} value {key!r} of host {host} is not available: {why}")


@dataclass(frozen=True)
class Recalled:
    """A value taken from memory because its host could not be read now."""

    host: str
    role: str
    key: str
    read_at: str
    why: str

    def describe(self) -> str:
        return f"{self.role} {self.key} of {self.host}, as last read {self.read_at} ({self.host}: {self.why})"

    def as_dict(self) -> dict:
        return {"host": self.host, "role": self.role, "key": self.key, "read_at": self.read_at, "why": self.why}


class ExportBook:
    """Thread-safe store of exported values, and of why any are missing.

    A value of a host in `publishers` is waited for until that host is
    `settle`d: its exports were read, or it failed.
    """

    def __init__(self, redactor: Redactor, publishers: list[str] = (), memory: ExportMemory | None = None,
                 shapes: dict[tuple[str, str], Shape] | None = None):
        self._values: dict[tuple[str, str, str], str] = {}
        self._missing: dict[tuple[str, str, str], str] = {}
        #: (role, key) -> the shape every value of that export must have
        self._shapes = dict(shapes or {})
        #: (host, role, key) -> why the value the host printed was refused
        self.refused: dict[tuple[str, str, str], str] = {}
        self._unreadable: dict[str, str] = {}
        self._fresh: dict[tuple[str, str, str], str] = {}
        self._lock = threading.Lock()
        self._redact = redactor
        self._settled = {host: threading.Event() for host in publishers}
        self.memory = memory or ExportMemory(None)

    def settle(self, host: str) -> None:
        """Everything `host` will publish in this run is in the book."""
        if host in self._settled:
            self._settled[host].set()

    def put(self, host: str, role: str, key: str, value: str, secret: bool = False, remember: bool = True) -> str | None:
        """Keep a value `host` printed, if it fits its shape; else why it was refused."""
        if secret:
            self._redact.add(value)
        refusal = self._refusal(role, key, value)
        with self._lock:
            if refusal is not None:
                self.refused[(host, role, key)] = refusal
                self._missing[(host, role, key)] = f"{host} answered a value that was refused: {refusal}"
                return refusal
            self._values[(host, role, key)] = value
            if remember and not secret:
                self._fresh[(host, role, key)] = value
        return None

    def seal(self, host: str, role: str, key: str, stand_in: str) -> None:
        """A secret the ops host's copy never reads: `stand_in` takes its place, never remembered
        (fleetfab.readside.secrets: files holding it are compared by recorded digest)."""
        with self._lock:
            self._values[(host, role, key)] = stand_in

    def _refusal(self, role: str, key: str, value: str) -> str | None:
        shape = self._shapes.get((role, key))
        return None if shape is None else shape.refusal(value)

    def missing(self, host: str, role: str, key: str, why: str) -> None:
        """The host answered, and the value is not there: nothing is remembered over it."""
        with self._lock:
            self._missing[(host, role, key)] = why

    def unreadable(self, host: str, why: str) -> None:
        """The host could not be read now: its remembered values stand in."""
        with self._lock:
            self._unreadable[host] = why

    def lookup(self, host: str, role: str, key: str) -> tuple[str, Recalled | None]:
        """The value, and how it was had: None when read in this run."""
        if host in self._settled:
            self._settled[host].wait()
        with self._lock:
            if (host, role, key) in self._values:
                return self._values[(host, role, key)], None
            why = self._unreadable.get(host)
            if why is None:
                raise MissingExport(host, role, key, self._missing.get((host, role, key), "it was not read in this run"))
        remembered = self.memory.recall(host, role, key)
        if remembered is None:
            raise MissingExport(host, role, key, f"{host}: {why}; nothing remembered from an earlier run")
        refusal = self._refusal(role, key, remembered.value)
        if refusal is not None:
            raise MissingExport(host, role, key, f"{host}: {why}; the value remembered from {remembered.read_at} was refused: {refusal}")
        return remembered.value, Recalled(host, role, key, remembered.read_at, why)

    def get(self, host: str, role: str, key: str) -> str:
        return self.lookup(host, role, key)[0]

    def remember_fresh(self, inventory_hosts: set[str]) -> None:
        """Keep what this run read for the runs after it, and forget hosts gone from the inventory."""
        read_at = now()
        with self._lock:
            fresh = dict(self._fresh)
        for (host, role, key), value in fresh.items():
            self.memory.remember(host, role, key, value, read_at)
        self.memory.forget_hosts_except(inventory_hosts)
        self.memory.save()
