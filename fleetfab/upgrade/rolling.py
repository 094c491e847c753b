"""`fab upgrade`: package upgrades across the fleet, a batch at a time.

For each batch (fleetfab.upgrade.batches), in order, each step one engine run
(a host with nothing to upgrade and no reboot asked is left alone, and said so):

1. before: drift clean and every health check passing (a host that is not
   fine already is not upgraded: its trouble would be taken for the upgrade's);
2. out of service, where a role knows how (a Kubernetes node drained);
3. packages: `apt-get upgrade --with-new-pkgs`, the inventory's files kept;
4. reboot, when the system asks for it (/run/reboot-required), then waiting
   until the host answers from its new boot (a VM host's guests go down
   with it: refused unless --guests-down);
5. converge: every role, as a bootstrap;
6. after: drift clean and every health check passing (asked again for a while,
   as services finish starting);
7. back in service.

The first host that fails a step stops everything: the batches after it are
not touched. A dry run shows the batches and what apt would upgrade on each
host, from package lists fetched into a folder of its own.
"""

from __future__ import annotations

from fleetfab.cli import exitcodes
from fleetfab.cli.commands import consoles, load_or_explain
from fleetfab.upgrade.batches import alone_in_role, limits_of, plan_batches
from fleetfab.upgrade.procedure import SETTLE, Procedure, Stopped
from fleetfab.upgrade.reboot import NotBack, wait_until_back
from fleetfab.upgrade.steps import PackagesUpgraded, Rebooted

PURPOSE = "upgrade"
#: seconds a host may take to come back after its reboot
REBOOT_TIMEOUT = 600


def guests_of(inventory, name: str) -> list[str]:
    return [h.name for h in inventory.hosts.values() if h.hypervisor == name]


def service_steps(inventory, names: list[str], hook: str) -> dict[str, list]:
    """Every role's out_of_service (or back_in_service) resources for these hosts, by the host they run on."""
    by_host: dict[str, list] = {}
    for name in names:
        host = inventory.hosts[name]
        for role_name in host.roles:
            for where, resources in getattr(inventory.roles[role_name], hook)(inventory, host).items():
                by_host.setdefault(where, []).extend(resources)
    return by_host


def reboot(proc: Procedure, names: list[str], timeout: float, guests_down: bool, always: str = "") -> None:
    """Reboot the hosts that ask for it (or all, `always`), then wait for each to come back."""
    inventory = proc.inventory
    holding = [n for n in names if guests_of(inventory, n)]
    if holding and not guests_down:
        asked = proc.act("reboot (read)", {n: [Rebooted(always)] for n in holding}, apply=False)
        for report in asked.reports if asked else []:
            if report.changes:
                raise Stopped(report.host, f"reboot: it needs one, and its guests ({', '.join(guests_of(inventory, report.host))}) "
                                           "would all go down with it: rerun with --guests-down to allow it")
    result = proc.act("reboot", {n: [Rebooted(always)] for n in names})
    for report in result.reports if result else []:
        for record in report.changes:
            if record.change.action != "reboot":
                continue
            host = inventory.hosts[report.host]
            try:
                state = wait_until_back(inventory, host, record.change.data[0], timeout,
                                        step=lambda text, h=report.host: proc.view.step(h, f"reboot: {text}"))
            except NotBack as exc:
                raise Stopped(report.host, f"reboot: {exc}") from None
            proc.say(report.host, f"reboot: back from its reboot (systemd: {state})")


def with_work(proc: Procedure, names: list[str]) -> list[str]:
    """The hosts that have packages to upgrade or ask for a reboot; the others are said to be up to date."""
    result = proc.act("pending", {n: [PackagesUpgraded(), Rebooted()] for n in names}, apply=False)
    pending = {r.host for r in result.reports if r.changes} if result else set()
    for name in names:
        if name not in pending:
            proc.outcomes[name].status = "up to date, no reboot asked: nothing done"
    return [n for n in names if n in pending]


def upgrade_batch(proc: Procedure, names: list[str], reboot_timeout: float, guests_down: bool) -> None:
    inventory = proc.inventory
    names = with_work(proc, names)
    if not names:
        return
    proc.check("before", names)
    proc.act("out of service", service_steps(inventory, names, "out_of_service"))
    proc.act("packages", {n: [PackagesUpgraded()] for n in names})
    reboot(proc, names, reboot_timeout, guests_down)
    proc.converge("converge", names)
    proc.check("after", names, settle=SETTLE)
    proc.act("back in service", service_steps(inventory, names, "back_in_service"))


def upgrade(hosts: str | None, dry: bool = False, batch: int = 1, reboot_timeout: float = REBOOT_TIMEOUT,
            guests_down: bool = False, parallel: int | None = None) -> int:
    out, err = consoles()
    loaded = load_or_explain(err, hosts, changes=not dry)
    if loaded is None:
        return exitcodes.FAILED
    inventory, selected = loaded
    if batch < 1:
        err.print("--batch must be at least 1", style="bold red")
        return exitcodes.FAILED
    batches = plan_batches([h.name for h in selected], limits_of(inventory), batch)
    for index, names in enumerate(batches, 1):
        out.print(f"batch {index}: {', '.join(names)}", markup=False, highlight=False)
    for note in alone_in_role(inventory, [h.name for h in selected]):
        out.print(f"note: {note}", markup=False, highlight=False)
    with Procedure(inventory, selected, PURPOSE, out, err, parallel, dry=dry) as proc:
        if dry:
            return dry_run(proc)
        return run_batches(proc, batches, reboot_timeout, guests_down)


def run_batches(proc: Procedure, batches: list[list[str]], reboot_timeout: float, guests_down: bool) -> int:
    for names in batches:
        for name in names:
            proc.outcomes[name].status = "started"
        try:
            upgrade_batch(proc, names, reboot_timeout, guests_down)
        except Stopped as stop:
            return stopped(proc, stop, names)
        for name in names:
            if proc.outcomes[name].status == "started":
                proc.outcomes[name].status = "upgraded, healthy"
                proc.record(name, "upgraded; drift clean and every health check passed", failed=False)
    proc.out.print(proc.outcome_table("upgrade"))
    return exitcodes.OK


def stopped(proc: Procedure, stop: Stopped, batch: list[str]) -> int:
    """Say where and why the procedure stopped, and which hosts it never touched."""
    if stop.host in proc.outcomes:
        proc.outcomes[stop.host].status = f"stopped here: {stop.why}"
    for name in batch:
        if name != stop.host:
            proc.outcomes[name].status = f"stopped with its batch (at {stop.host})"
    for name in dict.fromkeys([*batch, stop.host]):
        if name in proc.outcomes:
            proc.record(name, proc.outcomes[name].status, failed=True)
    untouched = [n for n, o in proc.outcomes.items() if o.status == "untouched"]
    proc.out.print(proc.outcome_table(f"{proc.purpose}: stopped"))
    proc.err.print(f"{proc.purpose} stopped at {stop.host}: {stop.why}", markup=False, highlight=False, style="bold red")
    proc.err.print(f"untouched: {', '.join(untouched) or 'none'}", markup=False, highlight=False)
    return exitcodes.FAILED


def dry_run(proc: Procedure) -> int:
    """What apt would upgrade on each host (lists fetched into a folder of its own); nothing changed."""
    names = [h.name for h in proc.selected]
    result = proc.read("packages (dry run)", {n: [PackagesUpgraded(private_lists=True)] for n in names})
    code = exitcodes.OK
    for report in result.reports:
        if report.error:
            proc.say(report.host, f"could not be read: {report.error}")
            code = exitcodes.FAILED
        for record in report.changes:
            proc.say(report.host, f"would {record.change.action}: {record.change.summary}")
            if record.change.diff:
                proc.out.print(record.change.diff.rstrip("\n"), markup=False, highlight=False)
        for note in report.notes:
            proc.say(report.host, note)
    proc.out.print("upgrade --dry: nothing was changed", markup=False, highlight=False)
    return code
