"""Hosts another fleetfab run held: checked again once it lets them go, within the same scheduled run.

Drift takes each host's lock shared and never waits for it: a host in the
middle of a bootstrap answers "another fleetfab run holds the lock". On a
timer that is common right after a change (the ops host's first check comes
within a minute of a bootstrap, and the operator may still be bootstrapping
other hosts), and reporting those hosts as failed would notify a failure
that is only a bootstrap at work. So the run asks drift again for just those
hosts (and the guests they hold back) a few times, a short wait apart, while
its own time limit allows; the entries of the last try replace the first.
"""

from __future__ import annotations

import logging
import time

from fleetfab.cli import exitcodes

log = logging.getLogger("fleetfab.scheduled")

#: the words of fleetfab.hostrun / fleetfab.readside.transport for a host another run holds
LOCKED = "another fleetfab run holds the lock on this host"
WAIT = 20.0
TRIES = 3
TOTAL_KEYS = ("changed", "unchanged", "failed", "skipped")


def locked_hosts(document: dict) -> list[str]:
    """Hosts (and guests held back by their VM host) that failed only because another run held a lock."""
    return sorted(name for name, entry in (document.get("hosts") or {}).items() if LOCKED in str(entry.get("error") or ""))


def merge(document: dict, again: dict) -> dict:
    """`document` with the hosts checked again replaced by their new entries; totals and exit code recounted."""
    for name, entry in (again.get("hosts") or {}).items():
        if name in document.get("hosts", {}):
            document["hosts"][name] = entry
    entries = list(document["hosts"].values())
    document["totals"] = {**{key: sum(int(e.get(key) or 0) for e in entries) for key in TOTAL_KEYS},
                          "hosts": len(entries), "hosts_failed": sum(1 for e in entries if e.get("status") == "failed"),
                          "from_memory": sum(len(e.get("from_memory") or []) for e in entries)}
    document["exit_code"] = exit_code(entries, document.get("exit_code"))
    document["finished"] = again.get("finished", document.get("finished"))
    return document


def exit_code(entries: list[dict], before) -> int:
    """drift's rule over the merged entries; an interrupted run stays interrupted."""
    if before == exitcodes.INTERRUPTED:
        return before
    if any(e.get("status") == "failed" for e in entries):
        return exitcodes.FAILED
    return exitcodes.DRIFT if any(e.get("changes") for e in entries) else exitcodes.OK


def check_again(document: dict, drift_hosts, deadline: float | None, wait: float | None = None, tries: int = TRIES,
                clock=time.monotonic, sleep=time.sleep) -> dict:
    """Ask `drift_hosts(names) -> document or None` again for the locked hosts, while any are and time allows."""
    wait = WAIT if wait is None else wait
    for _ in range(tries):
        names = locked_hosts(document)
        if not names or (deadline is not None and clock() + wait > deadline):
            break
        log.info("held by another fleetfab run: %s; checking them again in %gs", ", ".join(names), wait)
        sleep(wait)
        again = drift_hosts(names)
        if not isinstance(again, dict):
            break
        document = merge(document, again)
    return document
