"""First contact (`fab hostkeys.collect`): host keys shown, confirmed, then written to known_hosts."""

from invoke import task

from fleetfab.cli import hostkeys
from fleetfab.cli.executor import selected_hosts
from fleetfab.tasks.fleet import _finish


@task(help={"accept": "fingerprints you checked out of band (SHA256:..., comma-separated): write only these keys, no prompt"})
def collect(c, accept=None):
    """Show the -H hosts' SSH host keys (SHA256, as ssh-keygen -lf) and write those you confirm to ssh.known_hosts."""
    _finish(hostkeys.collect(selected_hosts(c), accept=accept))
