"""`fab mail.records`: what each mail domain needs in DNS, for the operator to publish.

The fleet's own name servers publish these records by themselves; a mail
domain they are not authoritative for (the registrar's, another provider's)
needs them written there by hand. The DKIM keys are read from the mail hosts.
"""

from __future__ import annotations

from fleetfab.text import one_line, printable
from fleetfab.cli import exitcodes
from fleetfab.cli.commands import consoles, load_or_explain
from fleetfab.dns import holding_zone
from fleetfab.report.views import PlainView
from fleetfab.role import RoleContext
from fleetfab.runner import RunOptions, run_fleet
from fleetfab.roles.bind9.fleet import fleet_zones
from fleetfab.roles.mail import mail_records
from fleetfab.roles.mail.settings import ROLE


def read_exports(inventory, hosts):
    """The mail hosts' exports, read-only, with the engine (nothing else of the hosts is read)."""
    from fleetfab.roles.mail.rotate import Awaiting, Idle

    names = {r for h in inventory.hosts.values() for r in h.roles}
    roles = {**{n: Idle(n) for n in names}, ROLE: Awaiting()}
    options = RunOptions(apply=False, purpose="mail.records", parallel=max(1, len(hosts)))
    return run_fleet(inventory, hosts, options, _Silent(), roles=roles)


def print_records(selection: str | None, everything: bool = False) -> int:
    out, err = consoles()
    loaded = load_or_explain(err, selection)
    if loaded is None:
        return exitcodes.FAILED
    inventory, selected = loaded
    hosts = [h for h in selected if ROLE in h.roles]
    if not hosts:
        err.print("no mail hosts selected", style="bold red")
        return exitcodes.FAILED
    result = read_exports(inventory, hosts)
    zones = fleet_zones(inventory)
    for host in hosts:
        ctx = RoleContext(inventory, host, ROLE, result.exports)
        for record in mail_records(ctx, host):
            served = holding_zone(record.name, zones) is not None
            if everything or not served:
                note = "  ; published by the fleet's name servers" if served else ""
                out.print(printable(record.zone_line() + note), markup=False, highlight=False, soft_wrap=True)
        for note in ctx.notes:
            err.print(f"{host.name}: {one_line(note)}", style="yellow", markup=False)
    failed = [r for r in result.reports if r.error]
    for report in failed:
        err.print(f"{report.host}: {one_line(report.error)}", style="bold red", markup=False)
    return exitcodes.FAILED if failed else exitcodes.OK


class _Silent(PlainView):
    def step(self, host: str, text: str) -> None:
        pass
