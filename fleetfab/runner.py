"""A run over many hosts: in parallel, each host independent.

Each selected host connects, takes its lock, applies (or plans) its
`prepare` resources and publishes its exports, in one read; publishing hosts
outside the run are read for their exports, unlocked. Then each host
computes its desired state and applies (or plans) it. A host needing another
host's export waits for that host only; a fleet whose roles publish nothing
never waits at all.

Every step another host may wait for (a publisher's first step, a reading
of a publisher outside the run) is queued before any step that may wait, and
the pool takes work in order, so a host waiting for a publisher never holds
the worker that the publisher needs. A host that publishes nothing is one
task, both steps: it connects when a worker takes it up and hangs up when it
is done, so a fleet holds about `parallel` connections open, not one a host.
A host that fails stops only itself; the others go on.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
import threading
from dataclasses import dataclass, field

from fleetfab.exports import ExportBook
from fleetfab.errors import describe_error
from fleetfab.hostrun import HostRun, export_shapes, exports_of
from fleetfab.inventory.model import Host, Inventory
from fleetfab.memory import ExportMemory, memory_path
from fleetfab.problems import InputError, Problem
from fleetfab.readside.refresh import ReadSideRoles, refresh_read_sides
from fleetfab.redact import Redactor
from fleetfab.report.model import HostReport


@dataclass(frozen=True)
class RunOptions:
    apply: bool
    purpose: str
    parallel: int = 10
    force: bool = False
    #: set to stop the run at the next safe point (the operator's Ctrl-C)
    stop: threading.Event = field(default_factory=threading.Event)
    #: a procedure's run brings the read-outs of the hosts it changed up to
    #: date (fleetfab.readside.refresh), unless a later step converges them
    refresh_read_side: bool = True


@dataclass
class RunResult:
    reports: list[HostReport]
    redact: Redactor
    interrupted: bool = False
    #: every value read (or remembered) in the run, for tasks that report on them
    exports: ExportBook | None = None
    #: the hosts the run was over
    hosts: list = field(default_factory=list)


class ReadOnlyInventory(InputError):
    """An inventory that only checks (an ops host's copy) was asked to change hosts."""

    @classmethod
    def of(cls, inventory: Inventory) -> "ReadOnlyInventory":
        return cls([Problem(str(inventory.path), inventory.read_only, "run.read_only",
                            "this inventory only checks hosts: it never applies (apply from the operator's own inventory)")])


def refuse_changes_if_read_only(inventory: Inventory) -> None:
    if inventory.read_only:
        raise ReadOnlyInventory.of(inventory)


def run_fleet(inventory: Inventory, selected: list[Host], options: RunOptions, view, roles: dict | None = None) -> RunResult:
    if options.apply:
        refuse_changes_if_read_only(inventory)
    procedure = roles is not None
    roles = inventory.roles if roles is None else roles
    redactor = Redactor()
    exported = {h.name: exports_of(inventory, h, roles) for h in inventory.hosts.values()}
    publishers = [h for h in inventory.hosts.values() if exported[h.name]]
    shapes = export_shapes([item for items in exported.values() for item in items])
    book = ExportBook(redactor, [h.name for h in publishers], ExportMemory.load(memory_path(inventory.path)), shapes)
    if inventory.ops_copy:
        # The ops host never reads a secret, even from a host that answers (fleetfab.readside.secrets).
        from fleetfab.readside.secrets import readable, seal

        for host in publishers:
            seal(book, host.name, readable(exported[host.name])[1])
    runs = [HostRun(inventory, host, roles, redactor, view, options.apply, options.force, options.stop) for host in selected]
    names = {host.name for host in selected}
    readers = [HostRun(inventory, h, roles, redactor, _Quiet(), apply=False) for h in publishers if h.name not in names]
    publishing = {h.name for h in publishers}
    by_name = {run.host.name: run for run in runs}
    # A guest whose VM host is in the run starts once that host is done (it may
    # have just made the guest); submitted last, so its VM host has a worker first.
    guests = [run for run in runs if run.host.hypervisor in by_name and run.host.name not in publishing]
    with ThreadPoolExecutor(max_workers=options.parallel) as pool:
        started = {run: pool.submit(_start, run, options, book) for run in runs if run.host.name in publishing}
        read = [pool.submit(_read_exports, reader, book) for reader in readers]
        final = {run: pool.submit(_start_and_converge, run, options, book)
                 for run in runs if run not in started and run not in guests}
        final.update({run: pool.submit(_converge, run, started[run], book) for run in started})
        after = [pool.submit(_after_vm_host, run, by_name[run.host.hypervisor], final[by_name[run.host.hypervisor]], options, book)
                 for run in guests]
        for future in [*started.values(), *read, *final.values(), *after]:
            future.result()
    book.remember_fresh(set(inventory.hosts))
    for run in runs:
        view.finish(run.host.name, run.report)
    result = RunResult([r.report for r in runs], redactor, exports=book, hosts=list(selected))
    if options.apply and procedure and options.refresh_read_side and not isinstance(roles, ReadSideRoles):
        # What a procedure changed may change what the ops host reads there (fleetfab.readside.refresh).
        refresh_read_sides(inventory, result, options)
    return result


def _start(run: HostRun, options: RunOptions, book: ExportBook) -> None:
    try:
        run.timed(lambda: (run.open(lock=True, purpose=options.purpose), run.prepare(book)))
        if not run.alive:
            _missing_exports(run, book, run.report.reason)
    finally:
        book.settle(run.host.name)


def _converge(run: HostRun, started: Future, book: ExportBook) -> None:
    """The host's last step: its connection closes as soon as it is done.

    An idle transport still costs the controller a thread that wakes ten
    times a second, and the host a session, until the whole fleet is done.
    """
    try:
        started.result()
        _converge_started(run, book)
    finally:
        run.close()


def _start_and_converge(run: HostRun, options: RunOptions, book: ExportBook) -> None:
    """A host no other host waits for: connected only when a worker takes it up.

    Opening every host's connection first held one transport thread (and
    a session on the host) a host for the whole run: the controller's CPU
    per host grew with the size of the fleet.
    """
    try:
        _start(run, options, book)
        _converge_started(run, book)
    finally:
        run.close()


def _after_vm_host(run: HostRun, vm_host: HostRun, done: Future, options: RunOptions, book: ExportBook) -> None:
    """A guest: nothing until its VM host is done; then it waits for its boot if the VM host just started it."""
    done.result()
    if vm_host.report.status == "failed":
        run.report.error = f"not started: its VM host {vm_host.host.name} failed ({vm_host.report.reason})"
        return
    run.await_boot = options.apply and vm_host.started_guest(run.host.name)
    _start_and_converge(run, options, book)


def _converge_started(run: HostRun, book: ExportBook) -> None:
    if run.alive:
        run.timed(lambda: run.converge(book))
    run.write_journal()


def _read_exports(run: HostRun, book: ExportBook) -> None:
    """A publishing host outside the run: its exports, read-only and unlocked."""
    try:
        run.open(lock=False, purpose="read exports")
        run.read_exports(book)
    except Exception as exc:
        _missing_exports(run, book, describe_error(exc))
    finally:
        run.close()
        book.settle(run.host.name)


def _missing_exports(run: HostRun, book: ExportBook, why: str) -> None:
    """The host could not be read: what it published before stands in for it."""
    book.unreadable(run.host.name, why)


class _Quiet:
    def step(self, host: str, text: str) -> None:
        pass

    def finish(self, host: str, report) -> None:
        pass
