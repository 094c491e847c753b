"""Reading drift documents: the questions every other module asks of one.

A drift document is what `fab drift --json` writes (see
fleetfab/report/jsonfile.py); its hosts are HostReport.as_dict entries.
Keeping these readings in one place means the change detection, the
metrics and the status table agree on what "checked" or "drifting" means.
"""

from __future__ import annotations

import calendar
import time

#: the form of `finished` in drift documents (UTC)
FINISHED_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def utc_now(clock=time.time) -> str:
    """The current time written as drift documents write `finished`."""
    return time.strftime(FINISHED_FORMAT, time.gmtime(clock()))


def finished_seconds(document: dict) -> int | None:
    """The document's `finished` time as unix seconds, or None when it has none that parses."""
    try:
        return calendar.timegm(time.strptime(document["finished"], FINISHED_FORMAT))
    except (KeyError, TypeError, ValueError):
        return None


def hosts(document: dict | None) -> dict[str, dict]:
    """The document's hosts by name; none for a missing document."""
    return dict((document or {}).get("hosts") or {})


def was_read(entry: dict) -> bool:
    """The host answered: its resources were compared (blocked ones aside).

    A host with an error (unreachable, locked, a refused host key) was not
    read, so its empty `changes` says nothing about drift.
    """
    return not entry.get("error")


def stale(entry: dict) -> bool:
    """The host was bootstrapped from another inventory after the ops host's copy was made
    (fleetfab.scheduled.stale): what it differs in says nothing about drift."""
    return bool(entry.get("stale"))


def judged(entry: dict) -> bool:
    """Read, and compared against an inventory that is the host's own: its drift is known."""
    return was_read(entry) and not stale(entry)


def failed(entry: dict) -> bool:
    """The host could not be checked completely: an error, a failed change or a blocked resource."""
    return entry.get("status") == "failed"


def checked_successfully(entry: dict) -> bool:
    """Read, and every resource decided: the host's drift (or its absence) is known."""
    return entry.get("status") in ("ok", "changed")


def drifting(entry: dict) -> dict[str, dict]:
    """The host's drifting resources by resource name (only a judged host's are known)."""
    if not judged(entry):
        return {}
    return {change["resource"]: change for change in entry.get("changes") or []}


def missing_report(previous: dict | None, error: str, exit_code: int, clock=time.time) -> dict:
    """A stand-in for the report a run did not write (bad inventory, timeout, crash).

    Every host of the previous report is marked failed with `error`, so the
    change detection, the metrics and the status treat "the check did not
    work" as what it is for each host: not checked. The top-level `error`
    tells it apart from a report drift wrote. The text is ours alone, so it
    carries no secret.
    """
    entry = {"status": "failed", "error": error, "changed": 0, "unchanged": 0, "failed": 1, "skipped": 0,
             "changes": [], "handlers": [], "from_memory": [], "blocked": [], "notes": [], "elapsed": 0.0,
             "round_trips": {}}
    names = sorted(hosts(previous))
    return {
        "command": "drift",
        "finished": utc_now(clock),
        "exit_code": exit_code,
        "error": error,
        "totals": {"changed": 0, "unchanged": 0, "failed": len(names), "skipped": 0, "hosts": len(names),
                   "hosts_failed": len(names), "from_memory": 0},
        "hosts": {name: dict(entry) for name in names},
    }
