"""The operator's tasks: fleetfab's own (bootstrap, drift, roles, inventory ...) and one of ours.

`fab --list` shows them together; `-H` takes inventory hosts and groups for
every one of them (fabric.yaml, beside this file, says so).
"""

from __future__ import annotations

from invoke import Collection, Exit, task

from fleetfab.tasks import ns

ROLE = "guestbook"


@task(help={"json": "also write the report of every host's restart as JSON to this path"})
def restart(c, json=None):
    """Restart the guestbook on the -H hosts one at a time; each must answer /ping before the next restarts."""
    from fleetfab.procedure import Procedure

    proc = Procedure(c, "guestbook.restart", json_path=json)
    hosts = proc.with_role(ROLE)
    if not hosts:
        proc.err.print(f"no host of the -H selection carries the {ROLE} role; nothing was contacted.")
        raise Exit(code=1)
    for done, host in enumerate(hosts):
        # the step is the role's own (roles/guestbook/restart.py): the role found for this inventory hands it over
        if proc.step({ROLE: proc.inventory.roles[ROLE].restarting()}, [host], title=f"guestbook.restart {host.name}"):
            left = [h.name for h in hosts[done + 1:]]
            if left:
                proc.err.print(f"stopped after {host.name} failed; not restarted: {', '.join(left)}")
            break
    proc.finish()


# `fab guestbook.restart`, beside fleetfab's own collections (wireguard.rotate, mail.*)
ns.add_collection(Collection("guestbook", restart))
