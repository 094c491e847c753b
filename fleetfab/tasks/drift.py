"""`fab drift` (the check) and `fab drift.status` (what the ops host's scheduled checks found)."""

from invoke import task

from fleetfab.cli.executor import selected_hosts
from fleetfab.tasks.fleet import _finish
from fleetfab.roles.controller.status import drift_status


@task(help={"now": "run a scheduled check on the ops host now, wait for it, then show it"})
def status(c, now=False):
    """The ops host's last scheduled drift: against which inventory, the next check, per host, and what changed.
    Exits with the last report's code: 0 clean, 1 a host could not be checked, 2 drift, 3 the ops host's copy is older."""
    _finish(drift_status(selected_hosts(c), now=now))
