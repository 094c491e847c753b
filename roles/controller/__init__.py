"""The controller role: the fleet's ops host, running fleetfab's drift checks itself.

fleetfab is installed there in a virtualenv from wheels the operator's machine
builds (the ops host needs no package index), with a copy of the operator's
inventory that logs in as the drift account. The ops host makes its own key
pair; every host accepts its public key (roles/controller/access.py, through
the base role). A systemd timer runs a check on the interval the inventory
sets; each run leaves the latest report, a bounded history, metrics for
node_exporter and, when the result changed, a notification
(fleetfab/scheduled). `fab drift.status` shows it on the operator's machine.
"""

from __future__ import annotations

from fleetfab import shapes
from fleetfab.resources import Command, Directory, File, Packages, Service
from fleetfab.role import Export, Role
from fleetfab.shell import q
from fleetfab.roles.controller.copy import ops_inventory, ops_known_hosts
from fleetfab.roles.controller.settings import (ACCOUNT, DEFAULTS, HOME, INVENTORY, INVENTORY_DIR, KEY, KNOWN_HOSTS,
                                       MEMORY_DIR, ROOT, SETTINGS, STATE_DIR, UNIT, VENV)
from fleetfab.roles.controller.software import FleetfabInstalled, source_digest
from fleetfab.roles.controller.units import RELOAD, unit_files


class Controller(Role):
    name = "controller"
    after = ("base",)
    settings = SETTINGS
    defaults = DEFAULTS

    def prepare(self, ctx):
        # Before any desired state: the key other hosts authorize, and the
        # Python that fleetfab's probe reads the version of.
        yield Packages(("python3", "python3-venv", "openssh-client"))
        yield Command("make the ops host's SSH key", run=make_key(ctx.host.name), creates=KEY)

    def exports(self, ctx):
        return {"public_key": Export(f"cat {KEY}.pub", shape=shapes.SSH_PUBLIC_KEY)}

    def resources(self, ctx):
        s = ctx.settings
        yield Directory(ROOT)
        yield FleetfabInstalled(VENV, source_digest())
        yield Directory(INVENTORY_DIR, group=ACCOUNT, mode="0750")
        yield Directory(MEMORY_DIR, owner=ACCOUNT, group=ACCOUNT, mode="0750")
        yield File(INVENTORY, ops_inventory(ctx.inventory, s["applies"]), group=ACCOUNT, mode="0640",
                   validate=f"{VENV}/bin/python -c 'import sys; from fleetfab.inventory import load_inventory; load_inventory(sys.argv[1])' %s")
        yield File(KNOWN_HOSTS, ops_known_hosts(ctx.inventory), group=ACCOUNT, mode="0640")
        yield Directory(STATE_DIR, owner=ACCOUNT, group=ACCOUNT, mode="0750")
        yield Directory(s["textfile_dir"], group=ACCOUNT, mode="0775")
        yield from unit_files(ctx)
        yield Service(f"{UNIT}.timer")

    def handlers(self, ctx):
        return {RELOAD: "systemctl daemon-reload"}


def make_key(host: str) -> str:
    """The account (the base role keeps it afterwards) and a key pair that never leaves the host."""
    return "\n".join([
        f"id -u {ACCOUNT} >/dev/null 2>&1 || useradd --system --create-home --home-dir {HOME} --shell /bin/sh {ACCOUNT}",
        f"install -d -o {ACCOUNT} -g {ACCOUNT} -m 0700 {HOME}/.ssh",
        f"ssh-keygen -q -t ed25519 -N '' -C {q(f'{ACCOUNT}@{host}')} -f {KEY}",
        f"chown {ACCOUNT}:{ACCOUNT} {KEY} {KEY}.pub",
    ])
