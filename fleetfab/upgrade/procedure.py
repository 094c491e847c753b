"""An upgrade's steps, each one engine run over a batch of hosts, under one live view.

Each step is `run_fleet` (fleetfab.runner): the hosts' locks taken, their
state read in one batch, changes applied and journalled as a bootstrap's
are. A step acts through the `upgrade` role (`Acting`), which the hosts of the
step carry for that run alone, with exactly the step's resources; every
role of the inventory stands idle. Converging, drift and the health checks
are the roles' own, unchanged.

The first host that fails a step stops the procedure: the step's other hosts
finish that step, and no later step or batch starts. The outcome of every
host is said at the end (done, stopped here and why, or untouched), and
each host the procedure reached gets a last journal line with its outcome.
"""

from __future__ import annotations

import copy
import dataclasses
import getpass
import socket
import time
from dataclasses import dataclass, field

from rich.table import Table

from fleetfab import journal
from fleetfab.cli.commands import parallelism
from fleetfab.health import FINAL, UNHEALTHY, checking_roles
from fleetfab.redact import Redactor
from fleetfab.remote import Remote
from fleetfab.report.model import APPLIED
from fleetfab.report.render import shown
from fleetfab.report.views import make_view
from fleetfab.resources import Directory, File
from fleetfab.role import Role, procedure_roles
from fleetfab.runner import RunOptions, run_fleet
from fleetfab.session import as_change
from fleetfab.ssh import connect
from fleetfab.text import one_line

ROLE = "upgrade"
#: how long health checks may take to pass after a host came back: services still starting, and a
#: WireGuard peer behind NAT, which only it can dial, takes up to its rekey time to find the host again
SETTLE = 200
SETTLE_POLL = 10


class Acting(Role):
    """The role a step's hosts carry for one run: on each host, exactly the given resources."""

    name = ROLE

    def __init__(self, by_host: dict[str, list]):
        self.by_host = by_host

    def resources(self, ctx):
        return self.by_host.get(ctx.host.name, [])


class StepView:
    """The live view, with the step's name before each line a run shows."""

    def __init__(self, view, label: str):
        self.view, self.label = view, label

    def step(self, host: str, text: str) -> None:
        self.view.step(host, f"{self.label}: {text}")

    def finish(self, host: str, report) -> None:
        self.view.step(host, f"{self.label}: {report.label}" + (f" ({one_line(report.error)})" if report.error else ""))


class Stopped(Exception):
    """The procedure stops at `host`; `why` says what failed."""

    def __init__(self, host: str, why: str):
        self.host, self.why = host, why
        super().__init__(f"{host}: {why}")


@dataclass
class Outcome:
    status: str = "untouched"
    done: list[str] = field(default_factory=list)


class Procedure:
    """The hosts, one live view, each host's outcome; `step` runs one engine run and stops on failure."""

    def __init__(self, inventory, selected: list, purpose: str, out, err, parallel: int | None = None, dry: bool = False):
        self.inventory = inventory
        #: a dry run reads only: it writes no journal line either
        self.dry = dry
        self.selected = selected
        self.purpose = purpose
        self.out, self.err = out, err
        self.parallel = parallelism(inventory, parallel)
        self.outcomes = {h.name: Outcome() for h in selected}
        self.view = None
        self.redact = Redactor()

    def __enter__(self):
        self._view = make_view([h.name for h in self.selected], self.out)
        self.view = self._view.__enter__()
        return self

    def __exit__(self, *exc):
        return self._view.__exit__(*exc)

    def say(self, host: str, text: str) -> None:
        """A line about one host that stays (the live view's rows are redrawn)."""
        self.out.print(f"[{host}] {one_line(text)}", markup=False, highlight=False)
        if host in self.outcomes:
            self.outcomes[host].done.append(one_line(text))

    # -- runs ------------------------------------------------------------------------

    def run(self, label: str, hosts: list, roles: dict, apply: bool):
        # no read-side refresh after each step: a host the upgrade changed ends
        # with a converge of every role, its read-outs included
        options = RunOptions(apply=apply, purpose=self.purpose, parallel=self.parallel, refresh_read_side=False)
        return run_fleet(self.inventory, hosts, options, StepView(self.view, label), roles=roles)

    def read(self, label: str, by_host: dict[str, list], apply: bool = False):
        """One run of the step's resources on each host of `by_host` (through the `upgrade` role), or None."""
        by_host = {name: resources for name, resources in by_host.items() if resources}
        if not by_host:
            return None
        hosts = [dataclasses.replace(self.inventory.hosts[name], roles=(ROLE,)) for name in by_host]
        return self.run(label, hosts, procedure_roles(self.inventory, **{ROLE: Acting(by_host)}), apply)

    def act(self, label: str, by_host: dict[str, list], apply: bool = True):
        """`read` (applying by default), its changes said, and a stop at the first host that failed."""
        result = self.read(label, by_host, apply)
        if result is None:
            return None
        self.tell(label, result.reports, apply)
        self.stop_at_failure(label, result.reports)
        return result

    def converge(self, label: str, names: list[str], files_only: bool = False):
        """The hosts brought to what the inventory says, by every role, as a bootstrap does; or (`files_only`)
        only every role's files and folders written, validated by the host's programs, no service touched."""
        roles = self.inventory.roles
        if files_only:
            roles = {name: files_of(role) for name, role in roles.items()}
        result = self.run(label, [self.inventory.hosts[n] for n in names], roles, apply=True)
        self.tell(label, result.reports, True)
        self.stop_at_failure(label, result.reports)
        return result

    def check(self, label: str, names: list[str], settle: float = 0, sleep=time.sleep, clock=time.monotonic) -> None:
        """Drift clean and every health check passing; health (never drift) is asked again while `settle` lasts."""
        deadline = clock() + settle
        while True:
            hosts = [self.inventory.hosts[n] for n in names]
            result = self.run(label, hosts, checking_roles(self.inventory.roles), apply=False)
            failing = {r.host: r for r in result.reports if r.error or r.changes or r.blocked}
            only_health = all(not r.error and not r.blocked and all(c.change.action == UNHEALTHY and FINAL not in c.change.data
                                                                        for c in r.changes) for r in failing.values())
            if not failing or not only_health or clock() >= deadline:
                break
            for name in failing:
                self.view.step(name, f"{label}: not healthy yet, asking again")
            sleep(SETTLE_POLL)
        for report in result.reports:
            if report.host not in failing:
                self.say(report.host, f"{label}: drift clean, every health check passed")
        for name, report in failing.items():
            raise Stopped(name, f"{label}: {check_failures(report)}")

    # -- reporting -----------------------------------------------------------------

    def tell(self, label: str, reports, apply: bool) -> None:
        for report in reports:
            for record in report.changes:
                c = record.change
                done = "" if not apply else (" (done)" if record.status == APPLIED else f" ({record.status})")
                self.say(report.host, f"{label}: {c.resource}: {c.action}: {c.summary}{done}")
            for note in report.notes:
                self.say(report.host, f"{label}: {note}")

    def stop_at_failure(self, label: str, reports) -> None:
        for report in reports:
            why = report.error or next((c.error for c in report.changes if c.error), "")
            if why or report.status == "failed":
                raise Stopped(report.host, f"{label}: {one_line(why or 'failed')}")
            refused = [c.change.summary for c in report.changes if c.change.action == "refused"]
            if refused:
                raise Stopped(report.host, f"{label}: {one_line(refused[0])}")

    def outcome_table(self, title: str) -> Table:
        table = Table(title=title)
        table.add_column("host")
        table.add_column("outcome")
        for name, outcome in self.outcomes.items():
            table.add_row(name, shown(outcome.status))
        return table

    def record(self, name: str, summary: str, failed: bool) -> None:
        """The procedure's last line in the host's own journal: what it ended with there."""
        if self.dry:
            return
        host = self.inventory.hosts[name]
        line = {
            "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "who": f"{getpass.getuser()}@{socket.gethostname()}",
            "command": self.purpose,
            "inventory": journal.inventory_revision(self.inventory.path),
            "changes": [{"role": ROLE, "resource": "outcome", "action": "stopped" if failed else "done",
                         "summary": one_line(self.redact(summary))}],
            "handlers": [],
            "failed": failed,
        }
        try:
            remote = Remote(name, connect(host, self.inventory.ssh), self.redact, sudo=host.user != "root")
            try:
                remote.run(as_change(journal.append_script(line)), ROLE, "append to the journal")
            finally:
                remote.close()
        except Exception as exc:  # the outcome is printed; only its copy on the host is missing
            self.err.print(f"{name}: journal not written: {one_line(str(exc))}", markup=False)


def files_of(role):
    """The role stating only its files and folders, with no handler: what a release upgrade writes for the
    new release before any service starts on it."""
    only = copy.copy(role)
    only.resources = lambda ctx: [r for r in role.resources(ctx) if isinstance(r, (File, Directory))]
    only.handlers = lambda ctx: {}
    return only


def check_failures(report) -> str:
    """What a check run found on one host: its error, the failed health checks, the drift."""
    if report.error:
        return one_line(report.error)
    health = [f"{c.change.resource.removeprefix('health: ')}: {c.change.summary}" for c in report.changes
              if c.change.action == UNHEALTHY]
    drift = [f"{c.role}: {c.change.resource}: {c.change.summary}" for c in report.changes if c.change.action != UNHEALTHY]
    parts = []
    if health:
        parts.append("unhealthy: " + "; ".join(health))
    if drift:
        parts.append("drift: " + "; ".join(drift))
    if report.blocked:
        parts.append("blocked: " + "; ".join(report.blocked))
    return one_line(" / ".join(parts))
