"""The fleet tasks: bootstrap, drift, inventory. Each parses options and calls the engine."""

from invoke import Exit, task

from fleetfab.cli import commands
from fleetfab.cli.executor import selected_hosts


def _finish(code: int) -> None:
    if code:
        raise Exit(code=code)


@task(help={
    "dry": "show the plan, with diffs, and change nothing",
    "json": "also write the run's report as JSON to this path",
    "parallel": "hosts worked on at once (default: the inventory's run.parallel)",
    "force": "apply changes a role refuses by default (for example rewriting most of a DNS zone)",
})
def bootstrap(c, dry=False, json=None, parallel=None, force=False):
    """Bring the selected hosts (-H names or groups; default all) to what the inventory says."""
    parallel = int(parallel) if parallel else None
    _finish(commands.bootstrap(selected_hosts(c), dry=dry, json_path=json, parallel=parallel, force=force))


@task(help={
    "json": "also write the findings as JSON to this path",
    "parallel": "hosts checked at once (default: the inventory's run.parallel)",
})
def drift(c, json=None, parallel=None):
    """Read-only: what differs from the inventory. Exit 0 clean, 2 drift, 1 a host could not be checked."""
    _finish(commands.drift(selected_hosts(c), json_path=json, parallel=int(parallel) if parallel else None))


@task
def inventory(c):
    """Validate the inventory and list its hosts, groups and roles."""
    _finish(commands.show_inventory())


@task(help={"name": "only this role"})
def roles(c, name=None):
    """Document every role's settings (kind, default, meaning), from the schemas."""
    _finish(commands.show_roles(name))


@task(help={"last": "how many runs to show per host (default 10)"})
def history(c, last=10):
    """The last runs that changed the -H hosts, newest first, from each host's own journal."""
    _finish(commands.history(selected_hosts(c), last=int(last)))
