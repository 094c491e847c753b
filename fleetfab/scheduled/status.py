"""The operator's view of the ops host's last scheduled run (for `fab drift.status`).

It is given the two documents fetched from the state directory,
latest.json and changes.json, as dicts, and renders them with rich: a
table of the last result per host, then what changed since the run before.
Fetching them is the caller's business, so this renders the same whether
the files came over SSH or from a local folder.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from fleetfab.report.render import STATUS_STYLE, shown
from fleetfab.scheduled.changes import describe
from fleetfab.scheduled.documents import drifting, hosts

VERDICT = {0: "no drift", 1: "some hosts could not be checked", 2: "drift", 130: "interrupted"}
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
    """Why a host could not be checked: its error, or the resources that were blocked."""
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
