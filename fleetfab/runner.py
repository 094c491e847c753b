"""A run over many hosts: in parallel, in phases, each host independent.

1. connect and lock every selected host; apply (or plan) `prepare` resources
   and read the host's exports (one read for both);
2. read the exports of publishing hosts outside the run;
3. compute each host's desired state from the inventory and the exports, and
   apply (or plan) it.
A host that fails stops only itself; the others go on.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from fleetfab.exports import ExportBook
from fleetfab.hostrun import HostRun, describe_error, exports_of
from fleetfab.inventory.model import Host, Inventory
from fleetfab.redact import Redactor
from fleetfab.registry import all_roles
from fleetfab.report.model import HostReport


@dataclass(frozen=True)
class RunOptions:
    apply: bool
    purpose: str
    parallel: int = 10
    force: bool = False


@dataclass
class RunResult:
    reports: list[HostReport]
    redact: Redactor


def run_fleet(inventory: Inventory, selected: list[Host], options: RunOptions, view, roles: dict | None = None) -> RunResult:
    roles = all_roles() if roles is None else roles
    redactor = Redactor()
    book = ExportBook(redactor)
    runs = [HostRun(inventory, host, roles, redactor, view, options.apply, options.force) for host in selected]
    with ThreadPoolExecutor(max_workers=options.parallel) as pool:
        try:
            _each(pool, runs, lambda r: r.timed(lambda: _start(r, options, book)))
            for run in runs:
                if not run.alive:
                    _missing_exports(inventory, run.host, roles, book, f"{run.host.name} failed: {run.report.error}")
            _read_other_exports(pool, inventory, runs, roles, redactor, book)
            _each(pool, [r for r in runs if r.alive], lambda r: r.timed(lambda: r.converge(book)))
        finally:
            _each(pool, runs, lambda r: r.close())
    for run in runs:
        view.finish(run.host.name, run.report)
    return RunResult([r.report for r in runs], redactor)


def _start(run: HostRun, options: RunOptions, book: ExportBook) -> None:
    run.open(lock=True, purpose=options.purpose)
    run.prepare(book)


def _each(pool: ThreadPoolExecutor, runs: list, work) -> None:
    for future in [pool.submit(work, run) for run in runs]:
        future.result()


def _read_other_exports(pool, inventory, runs, roles, redactor, book) -> None:
    """Exports of publishing hosts outside the run, read-only and unlocked.

    Selected hosts published theirs in their own first phase.
    """
    selected = {r.host.name for r in runs}
    readers = [
        HostRun(inventory, host, roles, redactor, _Quiet(), apply=False)
        for host in inventory.hosts.values()
        if host.name not in selected and exports_of(inventory, host, roles)
    ]

    def read(run: HostRun) -> None:
        try:
            run.open(lock=False, purpose="read exports")
            run.read_exports(book)
        except Exception as exc:
            _missing_exports(inventory, run.host, roles, book, describe_error(exc))
        finally:
            run.close()

    _each(pool, readers, read)


def _missing_exports(inventory, host, roles, book, why: str) -> None:
    for role, key, _ in exports_of(inventory, host, roles):
        book.missing(host.name, role, key, why)


class _Quiet:
    def step(self, host: str, text: str) -> None:
        pass

    def finish(self, host: str, report) -> None:
        pass
