"""After a bootstrap that left the ops host out: its copy of the inventory brought up to date.

The operator changes the inventory and bootstraps the DNS hosts; the ops
host's copy still describes the old zones, and its next check would call the
new ones drift. So a bootstrap whose hosts did not include an ops host ends
by applying the copy's three files there (the copy, its known hosts, its
source), through the engine's procedure runner with every other role idle. A
copy already current changes nothing. A change restarts the timer, so the
next check, within a minute, reads the new copy.

An ops host that cannot be reached keeps its old copy; the bootstrap still
succeeds (its own hosts converged) and says so, and the ops host's checks
report the hosts bootstrapped since as checked against an older copy, not
as drift (fleetfab/scheduled/stale.py).
"""

from __future__ import annotations

import functools

from fleetfab.role import Role, procedure_roles
from fleetfab.roles.controller.access import ROLE, ops_hosts
from fleetfab.roles.controller.copy import copy_resources
from fleetfab.roles.controller.settings import DEFAULTS, SETTINGS
from fleetfab.roles.controller.units import RESTART, RESTART_COMMAND

PURPOSE = "bootstrap: the ops host's copy"


class RefreshingCopy(Role):
    """The controller role reduced to the ops host's copy of the inventory."""

    name = ROLE
    settings = SETTINGS
    defaults = DEFAULTS

    def resources(self, ctx):
        return copy_resources(ctx, RESTART)

    def handlers(self, ctx):
        return {RESTART: RESTART_COMMAND}


def left_out(inventory, hosts) -> list:
    """The ops hosts a bootstrap of `hosts` did not reach (none from an ops host's own copy)."""
    if inventory.ops_copy:
        return []
    names = {h.name for h in hosts}
    return [h for h in ops_hosts(inventory) if h.name not in names]


def refresh_step(inventory, hosts):
    behind = left_out(inventory, hosts)
    return functools.partial(refresh_copies, inventory, behind) if behind else None


def refresh_copies(inventory, behind: list) -> int:
    """Apply the copy's files on each ops host left out; an unreachable one is said, not failed."""
    from fleetfab.cli import exitcodes
    from fleetfab.cli.commands import consoles, procedure

    out, err = consoles()
    roles = procedure_roles(inventory, **{ROLE: RefreshingCopy()})
    result, _code = procedure(inventory, behind, PURPOSE, roles, out, err)
    for report in result.reports:
        if report.status == "failed":
            err.print(f"{report.host}: the ops host's copy of the inventory was not brought up to date: until "
                      f"`fab -H {report.host} bootstrap`, its checks report the hosts bootstrapped since as checked "
                      "against an older copy, not as drift", style="yellow", markup=False)
    return exitcodes.OK
