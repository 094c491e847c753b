"""The state directory of scheduled drift: the files one run leaves for the next.

One class knows every file name, so the run, the status command and the
controller role's documentation agree on the layout (see the package
docstring).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from fleetfab.scheduled import history
from fleetfab.scheduled.atomic import read_json, write_json
from fleetfab.scheduled.documents import checked_successfully, finished_seconds, hosts

LATEST, CHANGES, HOSTS, LOCK = "latest.json", "changes.json", "hosts.json", ".lock"
HISTORY, CHANGE_HISTORY = "history", "changes"


class Busy(RuntimeError):
    """Another scheduled run holds the state directory."""


class StateDir:
    def __init__(self, root: str | os.PathLike, keep: int = history.DEFAULT_KEEP):
        self.root = Path(root)
        self.keep = keep

    def path(self, name: str) -> Path:
        return self.root / name

    @contextlib.contextmanager
    def locked(self):
        """Hold the directory for one run.

        systemd never starts a service twice, but an operator may run the
        same command by hand; two runs rotating one history would lose a
        report. The lock goes with the process, so a killed run leaves none.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.path(LOCK), "a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise Busy(f"another scheduled drift run is using {self.root}") from None
            yield self

    def latest(self) -> dict | None:
        """The newest drift document, the one the next run compares with."""
        document = read_json(self.path(LATEST))
        return document if isinstance(document, dict) else None

    def store_report(self, document: dict) -> None:
        """Make `document` the latest; the one it replaces goes into the bounded history.

        The old latest is copied into the history before latest.json is
        replaced, so a run killed between the two steps loses nothing.
        """
        previous = self.latest()
        if previous is not None:
            history.add(self.path(HISTORY), previous, self.keep)
        write_json(self.path(LATEST), document)

    def reports(self, last: int | None = None) -> list[dict]:
        """Earlier drift documents, newest first (latest.json not among them)."""
        return history.load(self.path(HISTORY), last)

    def latest_change(self) -> dict | None:
        document = read_json(self.path(CHANGES))
        return document if isinstance(document, dict) else None

    def store_change(self, change: dict) -> None:
        """changes.json always says how the newest run compares; only real changes are kept in history."""
        write_json(self.path(CHANGES), change)
        if change.get("changed"):
            history.add(self.path(CHANGE_HISTORY), change, self.keep)

    def changes(self, last: int | None = None) -> list[dict]:
        """Earlier non-empty change documents, newest first (the latest one included)."""
        return history.load(self.path(CHANGE_HISTORY), last)

    def last_success(self) -> dict[str, int]:
        """Per host, the unix time of its last successful check."""
        document = read_json(self.path(HOSTS)) or {}
        entries = document.get("hosts") if isinstance(document, dict) else None
        return {host: int(e["last_success"]) for host, e in (entries or {}).items()
                if isinstance(e, dict) and isinstance(e.get("last_success"), (int, float))}

    def record_checks(self, document: dict) -> dict[str, int]:
        """Carry each host's last successful check forward with this run, and save it.

        Hosts no longer in the report are forgotten, so a host taken out of
        the inventory stops appearing in the metrics.
        """
        updated = updated_last_success(self.last_success(), document)
        write_json(self.path(HOSTS), {"hosts": {h: {"last_success": t} for h, t in sorted(updated.items())}})
        return updated


def updated_last_success(known: dict[str, int], document: dict) -> dict[str, int]:
    """The last-success times after `document`: its successful hosts at its finished time, others as they were."""
    when = finished_seconds(document)
    updated = {}
    for host, entry in hosts(document).items():
        if checked_successfully(entry) and when is not None:
            updated[host] = when
        elif host in known:
            updated[host] = known[host]
    return updated
