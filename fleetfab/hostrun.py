"""One host's part of a run: read, plan, and (when applying) converge, role by role."""

from __future__ import annotations

import socket
import time
from typing import TYPE_CHECKING

import paramiko

from fleetfab.exports import ExportBook
from fleetfab.facts import batch_script, new_boundary, split_output
from fleetfab.lock import HostLock
from fleetfab.remote import Remote
from fleetfab.report.model import APPLIED, FAILED, ChangeRecord, HostReport
from fleetfab.role import RoleContext
from fleetfab.ssh import connect

if TYPE_CHECKING:
    from fleetfab.inventory.model import Host, Inventory
    from fleetfab.redact import Redactor
    from fleetfab.resources.base import Resource


class StopHost(Exception):
    """The host cannot go on; the reason is already in its report."""


class HostRun:
    def __init__(self, inventory: "Inventory", host: "Host", roles: dict, redactor: "Redactor", view, apply: bool, force: bool = False):
        self.force = force
        self.inventory = inventory
        self.host = host
        self.roles = roles
        self.redact = redactor
        self.view = view
        self.apply = apply
        self.report = HostReport(host.name)
        self.remote: Remote | None = None
        self.lock: HostLock | None = None
        self.notified: list[str] = []
        self.fired: set[str] = set()

    @property
    def alive(self) -> bool:
        return not self.report.error and not self.report.has_failed_change

    # -- connection ------------------------------------------------------

    def open(self, lock: bool, purpose: str) -> None:
        self.view.step(self.host.name, "connecting")
        connection = connect(self.host, self.inventory.ssh)
        self.remote = Remote(self.host.name, connection, self.redact, sudo=self.host.user != "root")
        if lock:
            self.view.step(self.host.name, "locking")
            self.lock = HostLock(self.remote, exclusive=self.apply, purpose=purpose)
            self.lock.acquire()

    def close(self) -> None:
        if self.lock is not None:
            self.lock.release()
        if self.remote is not None:
            self.report.round_trips = dict(self.remote.round_trips)
            self.remote.close()

    # -- phases ------------------------------------------------------------

    def converge(self, phase: str, exports: ExportBook | None) -> None:
        for name in self.host.roles:
            role = self.roles[name]
            ctx = RoleContext(self.inventory, self.host, name, exports, force=self.force)
            resources = list(role.prepare(ctx) if phase == "prepare" else role.resources(ctx))
            if resources:
                self.converge_role(name, resources)
            if phase == "resources":
                self.run_handlers(name, role.handlers(ctx))

    def converge_role(self, role: str, resources: list["Resource"]) -> None:
        for resource in resources:
            self.redact.add(*resource.secrets())
        self.view.step(self.host.name, f"{role}: reading {len(resources)} resources")
        outputs = self.read(role, [r.probe() for r in resources])
        pending = []
        for resource, output in zip(resources, outputs):
            change = resource.compare(output)
            if change is None:
                self.report.unchanged += 1
            else:
                pending.append((resource, ChangeRecord(role, change)))
        self.report.changes.extend(record for _, record in pending)
        if self.apply:
            for resource, record in pending:
                self.apply_change(resource, record)

    def read(self, label: str, probes: list[str]) -> list[str]:
        boundary = new_boundary()
        result = self.remote.check(batch_script(probes, boundary), label, f"read {len(probes)} probes")
        return split_output(result.stdout, boundary, len(probes))

    def apply_change(self, resource: "Resource", record: ChangeRecord) -> None:
        change = record.change
        self.view.step(self.host.name, f"{record.role}: {change.resource}: {change.action}")
        result = self.remote.run(resource.fix(change), record.role, f"{change.resource}: {change.action}")
        if not result.ok:
            record.status = FAILED
            record.error = self.redact((result.stderr.strip() or result.stdout.strip() or f"exit {result.exit_code}"))
            raise StopHost(record.error)
        record.status = APPLIED
        self.notified.extend(n for n in resource.notify if n not in self.notified)

    def run_handlers(self, role: str, handlers: dict[str, str]) -> None:
        """Run, once per run, each handler of this role that a change notified."""
        for name, command in handlers.items():
            if name not in self.notified or name in self.fired or not self.apply:
                continue
            self.fired.add(name)
            self.view.step(self.host.name, f"{role}: handler {name}")
            result = self.remote.run(f"set -e\n{command}\n", role, f"handler {name}")
            self.report.handlers.append(name)
            if not result.ok:
                self.report.error = self.redact(f"handler {name!r} failed: {result.stderr.strip() or result.exit_code}")
                raise StopHost(self.report.error)

    def read_exports(self, book: ExportBook) -> None:
        wanted = []
        for name in self.host.roles:
            ctx = RoleContext(self.inventory, self.host, name)
            wanted += [(name, key, export) for key, export in self.roles[name].exports(ctx).items()]
        if not wanted:
            return
        self.view.step(self.host.name, "reading exports")
        probes = [f"{export.command}\necho \"@exit $?\"" for _, _, export in wanted]
        for (role, key, export), output in zip(wanted, self.read("exports", probes)):
            value, _, status = output.rstrip("\n").rpartition("\n")
            if status == "@exit 0" and value.strip():
                book.put(self.host.name, role, key, value.strip(), secret=export.secret)
            else:
                book.missing(self.host.name, role, key, "not present on the host yet (bootstrap it first)")

    def timed(self, work) -> None:
        """Run a phase, recording its time and turning any failure into the report's error."""
        started = time.monotonic()
        try:
            work()
        except StopHost:
            pass
        except Exception as exc:  # one host's failure must never stop the others
            self.report.error = self.redact(describe_error(exc))
        finally:
            self.report.elapsed += time.monotonic() - started


def describe_error(exc: Exception) -> str:
    """One line an operator can act on, for the failures that are common."""
    if isinstance(exc, paramiko.BadHostKeyException):
        return f"host key CHANGED for {exc.hostname}: refusing to connect (possible man-in-the-middle)"
    if isinstance(exc, paramiko.AuthenticationException):
        return f"SSH authentication failed: {exc}"
    if isinstance(exc, (paramiko.ssh_exception.NoValidConnectionsError, socket.timeout, TimeoutError, ConnectionError, OSError)):
        return f"unreachable: {exc}"
    return str(exc) or type(exc).__name__
