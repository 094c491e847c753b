"""The operator's view of the ops host's last scheduled run (for `fab drift.status`).

It is given the two documents fetched from the state directory,
latest.json and changes.json, as dicts, and renders them with rich: a
table of the last result per host, then what changed since the run before.
Fetching them is the caller's business, so this renders the same whether
the files came over SSH or from a local folder.
"""

from __future__ import annotations

import time

from rich.console import Console
from rich.table import Table

from fleetfab.cli import exitcodes
from fleetfab.report.render import STATUS_STYLE, shown
from fleetfab.scheduled.changes import describe
from fleetfab.scheduled.documents import drifting, hosts
from fleetfab.scheduled.stale import STALE

VERDICT = {0: "no drift", 1: "some hosts could not be checked", 2: "drift", STALE: "the ops host's copy of the inventory "
           "is older than some hosts' last bootstrap", 130: "interrupted"}
#: the digests shown: enough to tell revisions apart at a glance
SHOWN_DIGEST = 12
#: resource names shown in a row before the rest are counted
SHOWN_RESOURCES = 3


def run_title(document: dict) -> str:
    code = document.get("exit_code")
    verdict = VERDICT.get(code, f"exit {code}")
    return f"last scheduled drift: {document.get('finished', '?')}, {verdict} (exit {code})"


def resources_cell(entry: dict) -> str:
    """The drifting resources of a host, the first few by name and a count of the rest."""
    names = sorted(drifting(entry))
    listed = ", ".join(names[:SHOWN_RESOURCES])
    return listed + (f" and {len(names) - SHOWN_RESOURCES} more" if len(names) > SHOWN_RESOURCES else "")


def problem_cell(entry: dict) -> str:
    """Why a host could not be checked: its error, the resources that were blocked, or a copy older than
    its last bootstrap."""
    found = entry.get("stale")
    if isinstance(found, dict):
        when = f" ({found['bootstrapped']})" if found.get("bootstrapped") else ""
        return f"the ops host's copy is older than this host's last bootstrap{when}: drift not judged"
    blocked = entry.get("blocked") or []
    return entry.get("error") or ("blocked: " + "; ".join(blocked) if blocked else "")


def status_table(latest: dict) -> Table:
    """One row per host of the latest scheduled report."""
    table = Table()
    for column in ("host", "status", "drifting", "resources", "problem"):
        table.add_column(column, justify="right" if column == "drifting" else "left")
    for host, entry in sorted(hosts(latest).items()):
        status = entry.get("status", "?")
        style = STATUS_STYLE.get(status, "")
        table.add_row(shown(host), f"[{style}]{shown(status)}[/{style}]" if style else shown(status),
                      str(len(drifting(entry))), shown(resources_cell(entry)), shown(problem_cell(entry)))
    return table


def change_lines(change: dict | None) -> list[str]:
    """What changed since the run before, one plain line each."""
    if change is None:
        return ["no comparison yet: the ops host has not recorded one"]
    previous = (change.get("previous") or {}).get("finished")
    if change.get("first_run"):
        head = "first scheduled run, compared with a clean fleet:"
    else:
        head = f"since the run before ({previous}):"
    if not change.get("changed"):
        return [f"{head} nothing to report" if change.get("first_run") else f"{head} no change"]
    lines = [head]
    run_event = {"report_missing": "the drift check wrote no report", "report_back": "the drift check reports again"}
    if change.get("run_event"):
        lines.append(f"  {run_event.get(change['run_event'], change['run_event'])}")
    lines += [f"  {event['host']}: {describe(event)}" for event in change.get("events", [])]
    return lines


def revision_line(ops_sha256: str | None, operator_sha256: str | None) -> tuple[str, bool]:
    """Which inventory the ops host checks against, and whether it is the operator's: (line, matches)."""
    if not ops_sha256:
        return "the ops host's copy of the inventory names no source (bootstrap the ops host)", False
    mine = f"inventory sha256 {ops_sha256[:SHOWN_DIGEST]}"
    if ops_sha256 == operator_sha256:
        return f"checks against {mine}: the same as yours", True
    return (f"checks against {mine}; yours is sha256 {str(operator_sha256)[:SHOWN_DIGEST]}: "
            "its checks judge the fleet by the older one until the ops host is bootstrapped"), False


def schedule_lines(timer: dict, host: str, clock=time.time) -> list[str]:
    """When the next check runs, whether one runs now, and how to run one now."""
    lines = []
    if timer.get("running"):
        lines.append("a check is running now")
    next_at = timer.get("next")
    if isinstance(next_at, (int, float)) and next_at > 0:
        wait = max(0, int(next_at - clock()))
        lines.append(f"next check: {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime(next_at))} "
                     f"(in {wait // 60} min {wait % 60} s)")
    elif not timer.get("running"):
        lines.append("no check is scheduled: the timer is not active on the ops host")
    lines.append(f"run one now: fab -H {host} drift.status --now")
    return lines


def status_exit_code(latest: dict | None) -> int:
    """The last report's exit code (0 clean, 1 not every host checked, 2 drift, 3 stale copy); no report is 1."""
    if latest is None:
        return exitcodes.FAILED
    code = latest.get("exit_code")
    return code if code in (exitcodes.OK, exitcodes.FAILED, exitcodes.DRIFT, STALE) else exitcodes.FAILED


def worst(codes: list[int]) -> int:
    """Of several ops hosts: not checked outranks drift, which outranks a stale copy."""
    for code in (exitcodes.FAILED, exitcodes.DRIFT, STALE):
        if code in codes:
            return code
    return exitcodes.OK


def print_status(console: Console, latest: dict | None, change: dict | None) -> None:
    """The whole status: the run's error if it wrote no report, its time and verdict, the table, then the changes."""
    if latest is None:
        console.print("no scheduled drift report yet", style="yellow")
        return
    if latest.get("error"):
        console.print(f"[bold red]{shown(latest['error'])}[/]")
    # a line of its own: a table's title would wrap at the table's width
    console.print(shown(run_title(latest)), style="bold", highlight=False)
    console.print(status_table(latest))
    for line in change_lines(change):
        console.print(shown(line), highlight=False)
