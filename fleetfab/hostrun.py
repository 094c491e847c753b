"""One host's part of a run: read, plan, and (when applying) converge, role by role."""

from __future__ import annotations

import contextlib
import threading
import time
from typing import TYPE_CHECKING

from fleetfab import journal, release
from fleetfab.errors import command_message, describe_error
from fleetfab.exports import ExportBook, MissingExport
from fleetfab.facts import Probe, batch_script, batch_sections, end_line, new_boundary, probe_of, split_output
from fleetfab.remote import Remote
from fleetfab.resources.base import REPORT
from fleetfab.resources.blocked import Blocked
from fleetfab.resources.unitwords import explained
from fleetfab.report.model import APPLIED, FAILED, PLANNED, SKIPPED, ChangeRecord, HostReport
from fleetfab.role import Export, RoleContext
from fleetfab.session import HostLocked, HostSession, as_change
from fleetfab.keysource import key_source, learn, read_keys
from fleetfab.ssh import connect, connect_when_up, known_name

if TYPE_CHECKING:
    from fleetfab.inventory.model import Host, Inventory
    from fleetfab.redact import Redactor
    from fleetfab.resources.base import Resource


class StopHost(Exception):
    """The host cannot go on; the reason is already in its report."""


class HostRun:
    def __init__(self, inventory: "Inventory", host: "Host", roles: dict, redactor: "Redactor", view, apply: bool,
                 force: bool = False, stop: threading.Event | None = None):
        self.force = force
        #: set when the operator interrupts the run: no new change starts after it
        self.stop = stop or threading.Event()
        self.inventory = inventory
        self.host = host
        self.roles = roles
        self.redact = redactor
        self.view = view
        self.apply = apply
        self.report = HostReport(host.name)
        self.remote: Remote | None = None
        self.session: HostSession | None = None
        #: an ops copy's reads go to the host's read program instead (fleetfab.readside.transport)
        self.reader = None
        self.notified: list[str] = []
        self.purpose = "bootstrap"
        self.fired: set[str] = set()
        #: the host was just made or started by its VM host in this run: wait for it to boot
        self.await_boot = False
        #: the host's release and watched package versions, from the first read (fleetfab.release)
        self.release: release.Release | None = None

    @property
    def alive(self) -> bool:
        return not self.report.error and not self.report.has_failed_change

    # -- connection ------------------------------------------------------

    def open(self, lock: bool, purpose: str) -> None:
        """Connect, and ask for the host lock without waiting for the answer.

        The first read goes out behind the lock request and reads its answer;
        nothing is changed before `confirm_lock`. Without the lock, each read
        is a command of its own.
        """
        self.purpose = purpose
        booted = self.learn_host_keys()
        self.view.step(self.host.name, "connecting")
        connection = connect_when_up(self.host, self.inventory.ssh) if booted else connect(self.host, self.inventory.ssh)
        self.remote = Remote(self.host.name, connection, self.redact, sudo=self.host.user != "root")
        if self.inventory.ops_copy:
            self.open_read_side(lock)
        elif lock:
            self.session = HostSession(self.remote, exclusive=self.apply, purpose=purpose, timeout=self.inventory.ssh.read_timeout)
            self.session.request()

    def open_read_side(self, lock: bool) -> None:
        """The ops copy reads through the host's read program, never `sh -s` (fleetfab.readside)."""
        from fleetfab.readside.transport import ReadSession

        self.reader = ReadSession(self.remote, lock, timeout=self.inventory.ssh.read_timeout)
        self.reader.request()
        self.session = self.reader if lock else None

    def published(self) -> list[tuple[str, str, Export]]:
        """This host's exports as this run reads them: an ops copy never reads a secret one."""
        wanted = exports_of(self.inventory, self.host, self.roles)
        if not self.inventory.ops_copy:
            return wanted
        from fleetfab.readside.secrets import readable

        return readable(wanted)[0]

    def started_guest(self, name: str) -> bool:
        """This run created or started the guest `name` (a VM host's run)."""
        return any(c.status == APPLIED and c.change.resource == f"guest {name}"
                   and {"create", "start"} & set(c.change.action.split()) for c in self.report.changes)

    def learn_host_keys(self) -> bool:
        """A host whose keys another host tells (a guest): ask it first; True if it had to boot."""
        source = key_source(self.inventory, self.host, self.roles)
        if source is None:
            return False
        self.view.step(self.host.name, f"host keys from {source.host}")
        step = lambda text: self.view.step(self.host.name, text)
        keys = read_keys(self.inventory, source, self.host.name, self.await_boot, self.stop, step)
        if keys:
            learn(known_name(self.host), keys, self.inventory.ssh.known_hosts)
        return self.await_boot

    def confirm_lock(self) -> None:
        if self.session is not None:
            self.session.confirm()

    def close(self) -> None:
        """Release the lock and hang up; a connection already lost has nothing left to close."""
        if self.session is not None:
            with contextlib.suppress(Exception):
                self.session.release()
            self.session = None
        if self.reader is not None:
            self.reader.release()
            self.reader = None
        if self.remote is not None:
            self.report.round_trips = dict(self.remote.round_trips)
            with contextlib.suppress(Exception):
                self.remote.close()
            self.remote = None

    # -- phases ------------------------------------------------------------

    def prepare(self, book: ExportBook) -> None:
        """Phase 1: every role's `prepare` resources and this host's exports, in one read."""
        contexts = self.contexts(None)
        items = [(name, list(self.roles[name].prepare(ctx))) for name, ctx in contexts]
        items = [(name, resources) for name, resources in items if resources]
        wanted = self.published()
        probes = [probe_of(r) for _, resources in items for r in resources]
        try:
            # The release rides in the first read: it is known before anything changes.
            outputs = self.read("read", [release.probe(self.watched())] + probes + [export_probe(e) for _, _, e in wanted])
        except HostLocked:
            # Its peers may still read what it publishes, as for a host outside the run.
            self.session = None
            with contextlib.suppress(Exception):  # the lock refusal is the error to report
                self.read_exports(book)
            raise
        self.learn_release(outputs.pop(0))
        self.store_exports(book, wanted, outputs[len(probes):])
        if self.converge_roles(items, outputs[: len(probes)]) and wanted:
            self.read_exports(book)

    def watched(self) -> tuple[str, ...]:
        """The packages whose versions this host's roles render for."""
        return tuple(sorted({*release.WATCHED, *(p for name in self.host.roles for p in self.roles[name].versions)}))

    def learn_release(self, output: str) -> None:
        """The host's release from its answer; one fleetfab does not support stops this host here."""
        try:
            self.release = release.parse(output)
        except release.UnsupportedRelease as exc:
            self.report.error = self.redact(f"refused: {exc}")
            raise StopHost(self.report.error) from None

    def converge(self, exports: ExportBook) -> None:
        """Phase 3: every role's desired state, read in one batch, applied role by role."""
        self.stop_if_interrupted("before reading its roles")
        contexts = self.contexts(exports)
        items, blocked = self.desired_states(contexts)
        if self.reader is not None:
            items = self.with_recorded_secrets(items)
        self.note_contexts(contexts)
        outputs = self.read("read", [probe_of(r) for _, resources in items for r in resources])
        try:
            self.converge_roles(items, outputs)
        finally:
            # Even after a failed change: what did change is validated and in place.
            # A lost connection has nowhere to run them; the next run finds the changes.
            for name, ctx in contexts[: len(items)]:
                if self.remote.connected:
                    self.run_handlers(name, self.roles[name].handlers(ctx))
        if blocked:
            self.report.error = self.redact(blocked)
            raise StopHost(blocked)

    def write_journal(self) -> None:
        """One line on the host for a run that changed it; a journal that cannot be written is noted, not fatal."""
        line = journal.entry(self.report, self.purpose, self.inventory.path, self.redact) if self.apply else None
        if line is None or self.remote is None or not self.remote.connected:
            return
        try:
            result = self.remote.run(as_change(journal.append_script(line)), "journal", "append to the journal")
        except Exception as exc:  # the changes are made; only their record is missing
            self.report.notes.append(f"journal not written: {describe_error(exc)}")
            return
        if not result.ok:
            self.report.notes.append(f"journal not written: {command_message(result.stderr, result.stdout, result.exit_code)}")

    def desired_states(self, contexts) -> tuple[list[tuple[str, list["Resource"]]], str]:
        """Each role's resources, up to the first role whose state cannot be known.

        A role needing another host's value that could not be read stops the
        host there; the roles before it still converge.
        """
        items = []
        for name, ctx in contexts:
            try:
                items.append((name, list(self.roles[name].resources(ctx))))
            except MissingExport as exc:
                return items, f"{name}: {exc}"
        return items, ""

    def with_recorded_secrets(self, items):
        """The ops copy compares secret files with the digests the operator's bootstrap recorded."""
        from fleetfab.readside.secrets import with_recorded_secrets

        recorded = self.reader.recorded()
        return [(name, with_recorded_secrets(resources, recorded)) for name, resources in items]

    def note_contexts(self, contexts) -> None:
        """What the roles took from memory, or could not compare, goes into the report."""
        for name, ctx in contexts:
            self.report.recalled.extend(r for r in ctx.recalled if r not in self.report.recalled)
            self.report.notes.extend(f"{name}: {note}" for note in ctx.notes)

    def contexts(self, exports: ExportBook | None) -> list[tuple[str, RoleContext]]:
        return [(name, RoleContext(self.inventory, self.host, name, exports, force=self.force, release=self.release))
                for name in self.host.roles]

    def converge_roles(self, items: list[tuple[str, list["Resource"]]], outputs: list[str]) -> bool:
        """Plan (and apply) each role in order; True if anything was changed.

        The batched read happened before any change: once an earlier role
        changed the host, a later role is read again before it is applied.
        """
        changed = False
        for name, resources in items:
            mine, outputs = outputs[: len(resources)], outputs[len(resources):]
            if changed and self.apply:
                mine = self.read(name, [probe_of(r) for r in resources])
            changed |= self.converge_role(name, resources, mine)
        return changed

    def converge_role(self, role: str, resources: list["Resource"], outputs: list[str]) -> bool:
        pending = []
        for resource, output in zip(resources, outputs):
            change = resource.compare(output)
            note = resource.note(output)
            if note:
                self.report.notes.append(self.redact(f"{role}: {note}"))
            if isinstance(resource, Blocked):
                self.note_blocked(role, resource, change)
            elif change is None:
                self.report.unchanged += 1
            elif change.action == REPORT and self.apply:
                self.report.notes.append(self.redact(f"{role}: {change.summary}"))
                self.report.unchanged += 1
            else:
                pending.append((resource, ChangeRecord(role, change)))
        self.report.changes.extend(record for _, record in pending)
        if self.apply:
            for resource, record in pending:
                self.apply_change(resource, record)
        return self.apply and bool(pending)

    def note_blocked(self, role: str, resource: Blocked, change) -> None:
        """A blocked resource is never applied: reported as waiting, or as kept."""
        if change is None:
            self.report.notes.append(self.redact(f"{role}: {resource.kept_note()}"))
        else:
            self.report.blocked.append(self.redact(f"{role}: {resource.what}: {change.summary}"))

    def read(self, label: str, probes: list[Probe]) -> list[str]:
        """The output of each probe, all from one SSH round trip."""
        if not probes:
            return []
        self.view.step(self.host.name, f"reading {len(probes)} probes")
        boundary = new_boundary()
        if self.reader is not None:
            return split_output(self.reader.read(batch_sections(probes), boundary, label), boundary, probes)
        script = batch_script(probes, boundary)
        if self.session is not None:
            stdout = self.session.read(script, end_line(boundary), label)
        else:
            what = f"read {len(probes)} probes"
            stdout = self.remote.check(script, label, what, timeout=self.inventory.ssh.read_timeout).stdout
        return split_output(stdout, boundary, probes)

    def apply_change(self, resource: "Resource", record: ChangeRecord) -> None:
        change = record.change
        self.stop_if_interrupted(f"before {record.role}: {change.summary}")
        self.confirm_lock()
        self.view.step(self.host.name, f"{record.role}: {change.resource}: {change.action}")
        try:
            for upload in resource.uploads(change):
                self.remote.send(upload.local, upload.staged, record.role)
            result = self.remote.run(as_change(resource.fix(change)), record.role, f"{record.role}: {change.summary}")
        except Exception as exc:
            record.status = FAILED
            record.error = self.redact(describe_error(exc))
            raise StopHost(record.error) from None
        if not result.ok:
            record.status = FAILED
            record.error = self.redact(command_message(result.stderr, result.stdout, result.exit_code))
            raise StopHost(record.error)
        record.status = APPLIED
        self.notified.extend(n for n in resource.notify if n not in self.notified)

    def stop_if_interrupted(self, where: str) -> None:
        """A safe point: the change before it is done, the next not begun."""
        if self.stop.is_set():
            self.report.error = f"interrupted {where}"
            raise StopHost(self.report.error)

    def run_handlers(self, role: str, handlers: dict[str, str]) -> bool:
        """Run, once per run, each handler of this role that a change notified."""
        ran = False
        for name, command in handlers.items():
            if name not in self.notified or name in self.fired or not self.apply:
                continue
            self.fired.add(name)
            self.view.step(self.host.name, f"{role}: handler {name}")
            # A reload that fails says why in the unit's own words (fleetfab.resources.unitwords).
            result = self.remote.run(as_change(explained(f"set -e\n{command}\n")), role, f"handler {name}")
            self.report.handlers.append(name)
            ran = True
            if not result.ok:
                why = command_message(result.stderr, result.stdout, result.exit_code)
                self.report.error = self.redact(f"handler {name!r} failed: {why}")
                raise StopHost(self.report.error)
        return ran

    # -- exports -------------------------------------------------------------

    def read_exports(self, book: ExportBook) -> None:
        """Exports alone: a host outside the run, or one whose `prepare` changed it."""
        wanted = self.published()
        self.store_exports(book, wanted, self.read("exports", [export_probe(e) for _, _, e in wanted]))

    def store_exports(self, book: ExportBook, wanted, outputs: list[str]) -> None:
        """What the host printed, offered to the book; a refused value is this host's error too."""
        for (role, key, export), output in zip(wanted, outputs):
            value, _, status = output.rstrip("\n").rpartition("\n")
            value = value.strip("\n")
            if status != "@exit 0" or not value.strip():
                book.missing(self.host.name, role, key, "not present on the host yet (bootstrap it first)")
                continue
            refusal = book.put(self.host.name, role, key, value, secret=export.secret, remember=export.remember)
            if refusal is not None:
                self.report.notes.append(self.redact(f"{role}: {key} refused, other hosts will not use it: {refusal}"))

    def skip_pending(self) -> None:
        """Changes a stopped apply run never reached are not 'changed'."""
        if self.apply:
            for record in self.report.changes:
                if record.status == PLANNED:
                    record.status = SKIPPED

    def timed(self, work) -> None:
        """Run a phase, recording its time and turning any failure into the report's error."""
        started = time.monotonic()
        try:
            work()
        except StopHost:
            self.skip_pending()
        except Exception as exc:  # one host's failure must never stop the others
            self.report.error = self.redact(describe_error(exc, self.inventory.ssh.connect_timeout, self.host, self.inventory.ssh))
            self.skip_pending()
        finally:
            self.report.elapsed += time.monotonic() - started


def export_shapes(exported: list[tuple[str, str, Export]]) -> dict:
    """(role, key) -> shape, for the book to check every value against."""
    return {(role, key): export.shape for role, key, export in exported}


def exports_of(inventory: "Inventory", host: "Host", roles: dict) -> list[tuple[str, str, Export]]:
    """(role, key, export) for every value this host publishes."""
    return [
        (name, key, export)
        for name in host.roles
        for key, export in roles[name].exports(RoleContext(inventory, host, name)).items()
    ]


def export_probe(export: Export) -> str:
    """The export's command, then its exit status on a line of its own."""
    return f"{export.command}\necho \"@exit $?\""
