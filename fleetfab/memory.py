"""Public exports remembered on the controller, for hosts that cannot be read now.

A host that publishes a value (a WireGuard public key) and is down must not
stop every other host: its peers keep the view of it they had. The last
value each host published is kept beside the inventory, in
`.fleetfab/<inventory name>.exports.json`, with the time it was read.
Only public values are kept: a secret export is never written here, and
its consumers keep their current copy instead (see `Blocked`).

The file is the controller's, not a host's: it may be committed beside the
inventory (it holds only public keys and such), and a lost file only means
that a host down in the next run blocks what needs it, as if never read.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

FORMAT = 1


@dataclass(frozen=True)
class Remembered:
    value: str
    read_at: str


def memory_path(inventory_path: Path) -> Path:
    inventory_path = Path(inventory_path)
    return inventory_path.parent / ".fleetfab" / f"{inventory_path.stem}.exports.json"


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class ExportMemory:
    """Values by (host, role, key); loaded once, saved once at the end of a run."""

    def __init__(self, path: Path | None, values: dict[tuple[str, str, str], Remembered] | None = None):
        self.path = path
        self.values = dict(values or {})
        self._saved = dict(self.values)

    @classmethod
    def load(cls, path: Path) -> "ExportMemory":
        """What an earlier run remembered; an unreadable file remembers nothing."""
        try:
            document = json.loads(path.read_text())
            hosts = document["hosts"] if document.get("format") == FORMAT else {}
            values = {
                (host, role, key): Remembered(entry["value"], entry["read_at"])
                for host, roles in hosts.items()
                for role, keys in roles.items()
                for key, entry in keys.items()
            }
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            values = {}
        return cls(path, values)

    def recall(self, host: str, role: str, key: str) -> Remembered | None:
        return self.values.get((host, role, key))

    def remember(self, host: str, role: str, key: str, value: str, read_at: str) -> None:
        self.values[(host, role, key)] = Remembered(value, read_at)

    def forget_hosts_except(self, names: set[str]) -> None:
        """Hosts gone from the inventory are forgotten, so nothing can bring them back."""
        self.values = {k: v for k, v in self.values.items() if k[0] in names}

    def save(self) -> None:
        """Write atomically, and only when something changed."""
        if self.path is None or self.values == self._saved:
            return
        hosts: dict = {}
        for (host, role, key), entry in sorted(self.values.items()):
            hosts.setdefault(host, {}).setdefault(role, {})[key] = {"value": entry.value, "read_at": entry.read_at}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(f".{self.path.name}.{os.getpid()}.partial")
        partial.write_text(json.dumps({"format": FORMAT, "hosts": hosts}, indent=2) + "\n")
        partial.replace(self.path)
        self._saved = dict(self.values)
