"""After a procedure (a key rotation, a guest's restart), each host it changed gets its read-outs anew.

A procedure converges roles of its own, not the base role that installs the
read side, yet what it changed can change what the ops copy reads there (a
rotated DKIM key is probed by its new selector). So once it has applied
anything, the hosts it changed are converged again for their read-outs
alone: every role's exports are read as in a bootstrap, and every other
resource is left out, so nothing else on those hosts is touched.
"""

from __future__ import annotations

from fleetfab.report.model import APPLIED


class ReadSideRoles(dict):
    """name -> each role, reduced to its read-outs: what a refresh run converges."""


class ReadOutsOnly:
    """A role as a bootstrap reads it (its exports, its watched versions), stating only its read-outs."""

    def __init__(self, role):
        self.role = role

    def __getattr__(self, name):
        return getattr(self.role, name)

    def prepare(self, ctx):
        return ()

    def resources(self, ctx):
        from fleetfab.readside.installed import ReadOuts

        return [r for r in self.role.resources(ctx) if isinstance(r, ReadOuts)]

    def handlers(self, ctx):
        return {}

    def after_bootstrap(self, inventory, hosts):
        return None


def changed_hosts(inventory, result) -> list:
    """The inventory's own hosts the procedure changed: its steps may run on
    copies of them carrying only the step's role (fleetfab.upgrade.procedure),
    while their read-outs are their real roles'."""
    names = {report.host for report in result.reports if any(c.status == APPLIED for c in report.changes)}
    return [inventory.hosts[host.name] for host in result.hosts if host.name in names]


def refresh_read_sides(inventory, result, options) -> None:
    """Converge the read-outs of every host the procedure changed; a failure is a note on that host's report."""
    from fleetfab.readside.readouts import OPS_ROLE
    from fleetfab.runner import RunOptions, _Quiet, run_fleet

    hosts = changed_hosts(inventory, result)
    if not hosts or not inventory.with_role(OPS_ROLE):
        return
    roles = ReadSideRoles({name: ReadOutsOnly(role) for name, role in inventory.roles.items()})
    refresh = RunOptions(apply=True, purpose=f"{options.purpose}: read side", parallel=options.parallel)
    done = run_fleet(inventory, hosts, refresh, _Quiet(), roles=roles)
    reports = {report.host: report for report in result.reports}
    for report in done.reports:
        if report.reason:
            reports[report.host].notes.append(f"read side not brought up to date: {done.redact(report.reason)}")
