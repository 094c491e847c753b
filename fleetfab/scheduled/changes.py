"""What differs between two scheduled runs, per host: the news a notification carries.

Only transitions are news. A host that drifted in the last run and drifts
the same way now is not; the operator was told already. Each host yields
events of these kinds:

    added / removed      the host entered or left the selection
    drift_appeared       it was clean and now drifts (`resources`: what drifts)
    drift_cleared        it drifted and now is clean (`resources`: what stopped)
    drift_changed        it drifts both times, but not on the same resources
                         (`appeared`, `cleared`)
    failed               it could be checked before and now cannot (`error`, `blocked`)
    recovered            it could not be checked before and now can (`drifting`: what drifts now)
    stale_copy           it was bootstrapped from another inventory after the ops host's copy was
                         made (`bootstrapped`: when, `inventory_sha256`): its drift is not judged
    copy_current         its drift is judged again (`drifting`: what drifts now)

Drift is compared only between two runs that both judged the host (read it,
with a copy of the inventory not older than its last bootstrap): an
unreachable host's empty change list says nothing, so a host that fails
and comes back yields failed then recovered, never a false drift_cleared.
Resources are compared by name; a resource that drifts both times with a
different summary ("expires in 29 days" then "28 days") is the same drift.

The first run has nothing to compare with. It is compared with an empty,
clean fleet: clean hosts are not news, while hosts that drift or fail
yield drift_appeared or failed, so a first run that finds a problem
notifies and a clean first run stays quiet. Such a change has
`first_run: true` and no `added` events.

A run that wrote no report (a bad inventory, a timeout) is stood in for
by documents.missing_report, whose hosts all failed; its top-level
`error` also yields the run-level `run_event` "report_missing", and the
next real report "report_back".
"""

from __future__ import annotations

from fleetfab.scheduled.documents import drifting, failed, hosts, judged, stale

#: the order of a host's events in a change document
EVENT_ORDER = ("added", "removed", "failed", "recovered", "stale_copy", "copy_current", "drift_appeared", "drift_changed",
               "drift_cleared")
#: a summary line stays readable as a mail subject even when the whole fleet fails at once
SUMMARY_EVENTS = 5
CLEAN = {"status": "ok", "error": None, "changes": [], "blocked": []}


def run_summary(document: dict | None) -> dict | None:
    """What a change document says about one run: when it finished and how it exited."""
    if document is None:
        return None
    summary = {"finished": document.get("finished"), "exit_code": document.get("exit_code")}
    if document.get("error"):
        summary["error"] = document["error"]
    return summary


def resource_brief(change: dict) -> dict:
    """A drifting resource without its diff: a notification says what drifts; latest.json shows how."""
    return {key: change.get(key) for key in ("resource", "role", "action", "summary")}


def drift_events(host: str, before: dict, after: dict) -> list[dict]:
    """How a host's drifting resources moved between two runs that both read it."""
    old, new = drifting(before), drifting(after)
    appeared = [resource_brief(new[name]) for name in sorted(new.keys() - old.keys())]
    cleared = [resource_brief(old[name]) for name in sorted(old.keys() - new.keys())]
    if not appeared and not cleared:
        return []
    if not old:
        return [{"host": host, "event": "drift_appeared", "resources": appeared}]
    if not new:
        return [{"host": host, "event": "drift_cleared", "resources": cleared}]
    return [{"host": host, "event": "drift_changed", "appeared": appeared, "cleared": cleared}]


def health_events(host: str, before: dict, after: dict) -> list[dict]:
    """Whether the host became impossible to check, or checkable again."""
    if failed(after) and not failed(before):
        return [{"host": host, "event": "failed", "error": after.get("error"), "blocked": list(after.get("blocked") or [])}]
    if failed(before) and not failed(after):
        now = [resource_brief(c) for _, c in sorted(drifting(after).items())]
        return [{"host": host, "event": "recovered", "drifting": now}]
    return []


def copy_events(host: str, before: dict, after: dict) -> list[dict]:
    """Whether the ops host's copy became older than the host's last bootstrap, or current again."""
    if stale(after) and not stale(before):
        found = after["stale"]
        return [{"host": host, "event": "stale_copy", "bootstrapped": found.get("bootstrapped"),
                 "inventory_sha256": found.get("inventory_sha256")}]
    if stale(before) and not stale(after) and not failed(after):
        now = [resource_brief(c) for _, c in sorted(drifting(after).items())]
        return [{"host": host, "event": "copy_current", "drifting": now}]
    return []


def host_events(host: str, before: dict | None, after: dict | None, first_run: bool = False) -> list[dict]:
    """Every event of one host; `None` on one side means it was not in that run's selection."""
    if after is None:
        return [{"host": host, "event": "removed"}]
    events = [] if before is not None or first_run else [{"host": host, "event": "added"}]
    before = CLEAN if before is None else before
    events += health_events(host, before, after)
    events += copy_events(host, before, after)
    if judged(before) and judged(after):
        events += drift_events(host, before, after)
    return events


def run_event(previous: dict | None, current: dict) -> str | None:
    """Whether the run as a whole stopped or started writing reports."""
    if current.get("error") and not (previous or {}).get("error"):
        return "report_missing"
    if previous is not None and previous.get("error") and not current.get("error"):
        return "report_back"
    return None


def compare(previous: dict | None, current: dict) -> dict:
    """The change document between the previous drift document (None on the first run) and the current one."""
    first_run = previous is None
    before, after = hosts(previous), hosts(current)
    events = []
    for host in sorted(before.keys() | after.keys()):
        found = host_events(host, before.get(host), after.get(host), first_run)
        events += sorted(found, key=lambda e: EVENT_ORDER.index(e["event"]))
    overall = run_event(previous, current)
    return {
        "kind": "fleetfab.drift.change",
        "version": 1,
        "changed": bool(events or overall),
        "first_run": first_run,
        "previous": run_summary(previous),
        "current": run_summary(current),
        "run_event": overall,
        "summary": summarize(events, overall),
        "events": events,
    }


def names(resources: list[dict]) -> str:
    return ", ".join(r["resource"] for r in resources)


def describe(event: dict) -> str:
    """One event in words, for the summary line and the operator's status."""
    kind = event["event"]
    if kind in ("drift_appeared", "drift_cleared"):
        return f"{kind.replace('_', ' ')}: {names(event['resources'])}"
    if kind == "drift_changed":
        parts = [f"now also {names(event['appeared'])}" if event["appeared"] else "",
                 f"no longer {names(event['cleared'])}" if event["cleared"] else ""]
        return "drift changed: " + "; ".join(p for p in parts if p)
    if kind == "failed":
        blocked = event.get("blocked") or []
        reason = event.get("error") or ("blocked: " + ", ".join(blocked) if blocked else "failed")
        return f"could not be checked: {reason}"
    if kind == "stale_copy":
        return (f"the ops host's copy of the inventory is older than this host's last bootstrap "
                f"({event.get('bootstrapped')}): drift not judged until the ops host is bootstrapped")
    if kind == "copy_current":
        return "judged again" + (f", drifting: {names(event['drifting'])}" if event["drifting"] else ", clean")
    if kind == "recovered":
        return "checked again" + (f", drifting: {names(event['drifting'])}" if event["drifting"] else ", clean")
    return {"added": "added to the selection", "removed": "no longer in the selection"}.get(kind, kind)


def summarize(events: list[dict], overall: str | None, most: int = SUMMARY_EVENTS) -> str:
    """The whole change in one line: a subject for mail or chat, cut after `most` events."""
    if not events and not overall:
        return "no change since the previous run"
    parts = {"report_missing": ["the drift check wrote no report"], "report_back": ["the drift check reports again"]}.get(overall, [])
    parts += [f"{e['host']}: {describe(e)}" for e in events[:most]]
    if len(events) > most:
        parts.append(f"and {len(events) - most} more event(s)")
    return "; ".join(parts)
