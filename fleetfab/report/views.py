"""Progress while a run goes on: a live table on a terminal, plain lines elsewhere."""

from __future__ import annotations

import sys
import threading
import time

from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.table import Table

from fleetfab.text import one_line


class PlainView:
    """One line per step, for CI logs and cron mail; a host's words in it written out safely."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stdout
        self._lock = threading.Lock()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def step(self, host: str, text: str) -> None:
        with self._lock:
            print(f"[{host}] {one_line(text)}", file=self.stream, flush=True)

    def finish(self, host: str, report) -> None:
        detail = f": {report.error}" if report.error else ""
        self.step(host, f"{report.label} ({report.counts}){detail}")
        for recalled in report.recalled:
            self.step(host, f"from memory: {recalled.describe()}")
        for blocked in report.blocked:
            self.step(host, f"blocked: {blocked}")
        for note in report.notes:
            self.step(host, f"note: {note}")


class LiveView:
    """A table of hosts with each one's current step, redrawn in place."""

    def __init__(self, hosts: list[str], console: Console):
        self.rows = {host: "waiting" for host in hosts}
        self.started = time.monotonic()
        self._lock = threading.Lock()
        self.live = Live(self._table(), console=console, refresh_per_second=8, transient=True)

    def __enter__(self):
        self.live.__enter__()
        return self

    def __exit__(self, *exc):
        return self.live.__exit__(*exc)

    def _table(self) -> Table:
        table = Table(title=f"fleetfab  {time.monotonic() - self.started:.0f}s", expand=False)
        table.add_column("host")
        table.add_column("step")
        for host, step in self.rows.items():
            table.add_row(host, step)
        return table

    def step(self, host: str, text: str) -> None:
        with self._lock:
            self.rows[host] = text
            self.live.update(self._table())

    def finish(self, host: str, report) -> None:
        self.step(host, f"[bold]{report.label}[/bold]" + (f": {escape(one_line(report.error))}" if report.error else ""))


def make_view(hosts: list[str], console: Console):
    return LiveView(hosts, console) if console.is_terminal else PlainView(console.file)
