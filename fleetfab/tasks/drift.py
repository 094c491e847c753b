"""`fab drift` (the check) and `fab drift.status` (what the ops host's scheduled checks found)."""

from invoke import task

from fleetfab.tasks.fleet import _finish
from fleetfab.roles.controller.status import drift_status


@task
def status(c):
    """The ops host's last scheduled drift: per host, and what changed since the run before."""
    _finish(drift_status())
