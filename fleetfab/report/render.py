"""The end of a run, for people: the summary table and the drift table with diffs."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from fleetfab.report.model import HostReport, totals

STATUS_STYLE = {"ok": "green", "changed": "yellow", "failed": "bold red", "drift": "yellow", "clean": "green"}


def summary_table(reports: list[HostReport], title: str) -> Table:
    skipped = any(r.skipped for r in reports)
    columns = ["host", "status", "changed", "unchanged", "failed"] + (["skipped"] if skipped else []) + ["time"]
    table = Table(title=title)
    for column in columns:
        table.add_column(column, justify="right" if column not in ("host", "status") else "left")
    for report in reports:
        style = STATUS_STYLE.get(report.status, "")
        counts = [report.changed, report.unchanged, report.failed] + ([report.skipped] if skipped else [])
        table.add_row(report.host, f"[{style}]{report.status}[/{style}]", *map(str, counts), f"{report.elapsed:.1f}s")
    total = totals(reports)
    table.add_section()
    counts = [total["changed"], total["unchanged"], total["failed"]] + ([total["skipped"]] if skipped else [])
    table.add_row("total", "", *map(str, counts), "")
    return table


def print_errors(console: Console, reports: list[HostReport], redact) -> None:
    for report in reports:
        if report.error:
            console.print(f"[bold red]{escape(report.host)}[/]: {escape(redact(report.error))}")
        for record in report.changes:
            if record.error:
                console.print(f"[bold red]{escape(report.host)}[/]: {escape(record.change.resource)}: {escape(redact(record.error))}")


def changes_table(reports: list[HostReport], redact, title: str) -> Table:
    table = Table(title=title)
    for column in ("host", "role", "resource", "change"):
        table.add_column(column)
    for report in reports:
        for record in report.changes:
            change = record.change
            table.add_row(report.host, record.role, escape(redact(change.resource)), escape(redact(change.summary)))
    return table


def print_diffs(console: Console, reports: list[HostReport], redact) -> None:
    for report in reports:
        for record in report.changes:
            if record.change.diff:
                console.rule(f"{report.host}: {escape(redact(record.change.resource))}", align="left")
                diff = redact(record.change.diff)
                console.print(escape(diff if diff.endswith("\n") else diff + "\n"), highlight=False, end="")
