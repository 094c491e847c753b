"""The end of a run, for people: the summary table and the drift table with diffs.

Whatever came from a host (a diff, an error, a note, a value remembered) is
shown through fleetfab.text: its control characters written out, never sent
to the terminal; and through rich's `escape`, so it is never read as markup.
"""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from fleetfab.report.model import HostReport, totals
from fleetfab.text import one_line, printable

STATUS_STYLE = {"ok": "green", "changed": "yellow", "would change": "yellow", "failed": "bold red", "drift": "yellow",
                "clean": "green"}


def summary_table(reports: list[HostReport], title: str, dry: bool = False) -> Table:
    """Per host: status and counts. `dry`: nothing was applied, so the count is of what would change."""
    skipped = any(r.skipped for r in reports)
    remembered = any(r.recalled for r in reports)
    columns = (["host", "status", "would change" if dry else "changed", "unchanged", "failed"] + (["skipped"] if skipped else [])
               + (["from memory"] if remembered else []) + ["time"])
    table = Table(title=title)
    for column in columns:
        table.add_column(column, justify="right" if column not in ("host", "status") else "left")
    for report in reports:
        style = STATUS_STYLE.get(report.label, "")
        counts = ([report.changed, report.unchanged, report.failed] + ([report.skipped] if skipped else [])
                  + ([len(report.recalled)] if remembered else []))
        table.add_row(report.host, f"[{style}]{report.label}[/{style}]", *map(str, counts), f"{report.elapsed:.1f}s")
    total = totals(reports)
    table.add_section()
    counts = ([total["changed"], total["unchanged"], total["failed"]] + ([total["skipped"]] if skipped else [])
              + ([total["from_memory"]] if remembered else []))
    table.add_row("total", "", *map(str, counts), "")
    return table


def print_remembered(console: Console, reports: list[HostReport]) -> None:
    """Which values came from the controller's memory, since their hosts could not be read now."""
    users: dict = {}
    for report in reports:
        for recalled in report.recalled:
            users.setdefault(recalled, []).append(report.host)
    if users:
        console.print("[yellow]values taken from memory, their hosts could not be read now:[/]")
    for recalled, hosts in users.items():
        console.print(f"  {shown(recalled.describe())}; used by {escape(', '.join(hosts))}")


def print_blocked(console: Console, reports: list[HostReport], redact) -> None:
    """Resources held back (a value no host could give), and copies left as they were."""
    for report in reports:
        for blocked in report.blocked:
            console.print(f"[bold red]{escape(report.host)}[/]: blocked: {shown(redact(blocked))}")
        for note in report.notes:
            console.print(f"[yellow]{escape(report.host)}[/]: {shown(redact(note))}")


def print_errors(console: Console, reports: list[HostReport], redact) -> None:
    for report in reports:
        if report.error:
            console.print(f"[bold red]{escape(report.host)}[/]: {shown(redact(report.error))}")
        for record in report.changes:
            if record.error:
                console.print(f"[bold red]{escape(report.host)}[/]: {shown(record.change.resource)}: {shown(redact(record.error))}")


def changes_table(reports: list[HostReport], redact, title: str) -> Table:
    table = Table(title=title)
    for column in ("host", "role", "resource", "change"):
        table.add_column(column)
    for report in reports:
        for record in report.changes:
            change = record.change
            table.add_row(report.host, record.role, shown(redact(change.resource)), shown(redact(change.summary)))
    return table


def print_diffs(console: Console, reports: list[HostReport], redact) -> None:
    for report in reports:
        for record in report.changes:
            if record.change.diff:
                console.rule(f"{report.host}: {shown(redact(record.change.resource))}", align="left")
                diff = printable(redact(record.change.diff))
                console.print(escape(diff if diff.endswith("\n") else diff + "\n"), highlight=False, end="")


def shown(text) -> str:
    """One line of a host's text (whatever its type), safe for the terminal and for rich's markup."""
    return escape(one_line(text if isinstance(text, str) else str(text)))
