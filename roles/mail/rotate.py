"""DKIM key rotation: publish the new key first, sign with it once served, withdraw the old.

Receivers verify a signature against whatever the name servers answer, so
the order is the whole point, and each step is an ordinary fleet run:

1. the mail host makes a key for a new selector (it does not sign yet);
2. the name servers converge, and now publish both keys;
3. the mail host waits until every name server of each domain serves the
   new key (asked directly, not through a cache);
4. the mail host signs with the new key (opendkim reloaded);
5. the old key is removed from the host;
6. the name servers converge again and withdraw the old record, and the
   mail host waits until none of them serves it.

A step that fails stops the rotation there, with signing on whichever key
is fully published: the next `fab bootstrap` leaves that state as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

from fleetfab.cli import exitcodes
from fleetfab.cli.commands import consoles, load_or_explain, parallelism
from fleetfab.dns import holding_zone
from fleetfab.report.jsonfile import report_document, write_report
from fleetfab.report.model import totals
from fleetfab.report.render import print_errors, summary_table
from fleetfab.report.views import make_view
from fleetfab.resources.base import Change, Resource
from fleetfab.role import Role
from fleetfab.runner import RunOptions, run_fleet
from fleetfab.shell import q
from fleetfab.roles.bind9 import Bind9
from fleetfab.roles.bind9.fleet import ROLE as BIND9, fleet_zones
from fleetfab.roles.mail import Mail, dkim, maps
from fleetfab.roles.mail.published import WAIT_SECONDS, DkimServed, dig
from fleetfab.roles.mail.settings import ROLE


class Idle(Role):
    """Stands in for every role a step does not run."""

    def __init__(self, name: str):
        self.name = name


class MailStep(Mail):
    """The mail role, plus what one step of the rotation adds to `prepare`."""

    def __init__(self, extra):
        self.extra = extra

    def prepare(self, ctx):
        yield from super().prepare(ctx)
        yield from self.extra(ctx)


class Awaiting(Mail):
    """The mail host's exports, and only the given waits: nothing else of the host is touched.

    With no waits it only publishes: the name servers' steps need the DKIM
    keys read from the host, or they would withdraw every key.
    """

    def __init__(self, waits=lambda ctx: ()):
        self.waits = waits

    def prepare(self, ctx):
        return ()

    def resources(self, ctx):
        return self.waits(ctx)

    def handlers(self, ctx):
        return {}


@dataclass(frozen=True)
class Withdrawn(Resource):
    """`server` no longer serves a record for the retired selector."""

    name: str
    server: str
    server_name: str

    @property
    def key(self) -> str:
        return f"dkim record {self.name} withdrawn on {self.server_name}"

    def probe(self) -> str:
        return dig(f"TXT {q(self.name)}", self.server)

    def compare(self, output: str) -> Change | None:
        return self.change("wait", f"{self.server_name} still serves {self.name}") if output.strip() else None

    def fix(self, change: Change) -> str:
        return (f"i=0\nwhile [ $i -lt {WAIT_SECONDS // 3} ]; do\n  [ -z \"$({self.probe()})\" ] && exit 0\n"
                f"  i=$((i + 1)); sleep 3\ndone\necho {q(change.summary)} >&2\nexit 1\n")


def served_by(inventory, domain: str) -> list:
    """The name servers of the fleet zone holding `domain` (none: published elsewhere)."""
    zones = fleet_zones(inventory)
    zone = zones.get(holding_zone(domain, zones) or "")
    return list(zone.servers) if zone else []


def served_waits(inventory, host, selector: str, public_key: str) -> list[Resource]:
    return [DkimServed(d.name, selector, public_key, s.address, s.name)
            for d in maps.domains_of(host.settings(ROLE)) for s in served_by(inventory, d.name)]


def withdrawn_waits(inventory, host, selector: str) -> list[Resource]:
    return [Withdrawn(f"{selector}._domainkey.{d.name}", s.address, s.name)
            for d in maps.domains_of(host.settings(ROLE)) for s in served_by(inventory, d.name)]


class Rotation:
    """The steps for one mail host; each runs the engine over the hosts it concerns."""

    def __init__(self, inventory, host, new: str, out, parallel: int):
        self.inventory, self.host, self.new = inventory, host, new
        self.out, self.parallel = out, parallel
        self.old: str | None = None
        self.public: str | None = None

    def roles(self, **chosen) -> dict:
        names = {r for h in self.inventory.hosts.values() for r in h.roles}
        return {**{n: Idle(n) for n in names}, **chosen}

    def run(self, title: str, hosts, roles: dict):
        self.out.rule(title, align="left")
        options = RunOptions(apply=True, purpose="mail.rotate-dkim", parallel=self.parallel)
        with make_view([h.name for h in hosts], self.out) as view:
            result = run_fleet(self.inventory, hosts, options, view, roles=roles)
        self.out.print(summary_table(result.reports, title))
        return result

    def dns_hosts(self) -> list:
        return self.inventory.with_role(BIND9)

    def steps(self):
        me = [self.host]
        yield "1. a new key on the mail host", me, self.roles(mail=MailStep(lambda ctx: [dkim.NewKey(self.new)]))
        yield "2. the name servers publish it", self.dns_hosts(), self.roles(bind9=Bind9(), mail=Awaiting())
        yield "3. every name server serves it", me, self.roles(mail=Awaiting(self._served))
        yield "4. the mail host signs with it", me, self.roles(mail=MailStep(lambda ctx: [dkim.ActiveSelector(self.new)]))
        yield "5. the old key leaves the host", me, self.roles(mail=MailStep(self._retire))
        yield "6. the name servers withdraw it", self.dns_hosts(), self.roles(bind9=Bind9(), mail=Awaiting())
        yield "7. no name server serves it", me, self.roles(mail=Awaiting(self._withdrawn))

    def _served(self, ctx):
        keys = dkim.parse_keys(ctx.export(self.host.name, "dkim_keys"))
        self.old = self.old or ctx.export(self.host.name, "dkim_active").strip()
        return served_waits(self.inventory, self.host, self.new, keys[self.new])

    def _retire(self, ctx):
        return [dkim.RetiredKey(self.old)] if self.old and self.old != self.new else []

    def _withdrawn(self, ctx):
        return withdrawn_waits(self.inventory, self.host, self.old) if self.old and self.old != self.new else []


def rotate_dkim(hosts: str | None, parallel: int | None = None, json_path: str | None = None) -> int:
    out, err = consoles(json_path)
    loaded = load_or_explain(err, hosts)
    if loaded is None:
        return exitcodes.FAILED
    inventory, selected = loaded
    if not hosts or len(selected) != 1 or ROLE not in selected[0].roles:
        err.print("mail.rotate-dkim needs -H with one mail host; nothing was contacted.", style="bold red")
        return exitcodes.FAILED
    rotation = Rotation(inventory, selected[0], dkim.new_selector(), out, parallelism(inventory, parallel))
    steps, code = [], exitcodes.OK
    for title, step_hosts, roles in rotation.steps():
        result = rotation.run(title, step_hosts, roles)
        failed = totals(result.reports)["hosts_failed"]
        steps.append(report_document(title, result.reports, result.redact, exitcodes.FAILED if failed else exitcodes.OK))
        if failed:
            print_errors(err, result.reports, result.redact)
            err.print(f"rotation stopped at step {title.split('.')[0]}: signing stays on a key every name server "
                      "served when the step began; run it again once the failure is fixed.", style="bold red")
            code = exitcodes.FAILED
            break
    else:
        out.print(f"DKIM key of {selected[0].name} rotated: {rotation.old} -> {rotation.new}")
    if json_path:
        write_report(json_path, {"command": "mail.rotate-dkim", "exit_code": code, "old": rotation.old,
                                 "new": rotation.new, "steps": steps})
    return code
