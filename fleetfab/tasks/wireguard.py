"""WireGuard mesh tasks: key rotation. The work is in roles/wireguard/rotate.py."""

from invoke import Exit, task

from fleetfab.cli.executor import selected_hosts


@task(help={
    "json": "also write the run's report as JSON to this path",
    "parallel": "hosts worked on at once (default: the inventory's run.parallel)",
})
def rotate(c, json=None, parallel=None):
    """New key pair on the -H hosts, then every mesh member takes the new public keys."""
    from fleetfab.roles.wireguard.rotate import rotate as rotate_keys

    code = rotate_keys(selected_hosts(c), json_path=json, parallel=int(parallel) if parallel else None)
    if code:
        raise Exit(code=code)
