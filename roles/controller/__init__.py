"""The controller role: the fleet's ops host, running fleetfab's drift checks itself.

fleetfab is installed there in a virtualenv from wheels the operator's machine
builds (the ops host needs no package index), with a copy of the operator's
inventory that logs in as the drift account. The ops host makes its own key
pair; every host accepts its public key (roles/controller/access.py, through
the base role). A systemd timer runs a check on the interval the inventory
sets, the first one within a minute of the timer's start (a boot, an install,
any change to the ops host's fleetfab, copy or units restarts it); each run
leaves the latest report, a bounded history, metrics for node_exporter and,
when the result changed, a notice that a unit of its own hands to the
operator's command as the account fleetfab-notify, which cannot read the key
(fleetfab/scheduled). A bootstrap of other hosts brings the copy up to date
(refresh.py); a copy older than a host's last bootstrap is said so instead of
drift (fleetfab/scheduled/stale.py). `fab drift.status` shows it all on the
operator's machine.
"""

from __future__ import annotations

from fleetfab import shapes
from fleetfab.resources import Command, Directory, Packages, Service
from fleetfab.role import Export, Role
from fleetfab.shell import q
from fleetfab.roles.controller.copy import copy_resources
from fleetfab.roles.controller.settings import (ACCOUNT, DEFAULTS, HOME, INVENTORY_DIR, KEY, MEMORY_DIR, NOTIFY_ACCOUNT,
                                                NOTIFY_HOME, OUTBOX, ROOT, SETTINGS, STATE_DIR, UNIT, VENV)
from fleetfab.roles.controller.software import fleetfab_installed
from fleetfab.roles.controller.units import RESTART, RESTART_COMMAND, unit_files


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
        yield fleetfab_installed(ctx.inventory, VENV, notify=RESTART)
        yield Directory(INVENTORY_DIR, group=ACCOUNT, mode="0750")
        yield Directory(MEMORY_DIR, owner=ACCOUNT, group=ACCOUNT, mode="0750")
        yield from copy_resources(ctx, RESTART)
        yield Directory(STATE_DIR, owner=ACCOUNT, group=ACCOUNT, mode="0750")
        yield Directory(s["textfile_dir"], group=ACCOUNT, mode="0775")
        if s.get("notify"):
            yield from notification_account()
        yield from unit_files(ctx)
        yield Service(f"{UNIT}.timer")

    def handlers(self, ctx):
        return {RESTART: RESTART_COMMAND}

    def ops_copy(self, inventory) -> str:
        """The ops host's copy of `inventory`, as it reads it: each host's read side is computed
        from it (fleetfab.readside), asked of this role so that the engine imports none."""
        from fleetfab.roles.controller.copy import ops_inventory

        return ops_inventory(inventory)

    def after_bootstrap(self, inventory, hosts):
        """A bootstrap that left the ops host out brings its copy of the inventory up to date."""
        from fleetfab.roles.controller.refresh import refresh_step

        return refresh_step(inventory, hosts)


def notification_account() -> list:
    """The account the operator's command runs as: a system account of its own, in no group of
    the drift account's; the outbox is the drift account's, readable by this account's group."""
    return [
        Command("make the notification account", unless=f"id -u {NOTIFY_ACCOUNT}",
                run=f"useradd --system --user-group --home-dir {NOTIFY_HOME} --no-create-home "
                    f"--shell /usr/sbin/nologin --comment 'fleetfab notifications' {NOTIFY_ACCOUNT}"),
        Directory(NOTIFY_HOME, owner=NOTIFY_ACCOUNT, group=NOTIFY_ACCOUNT, mode="0755"),
        Directory(OUTBOX, owner=ACCOUNT, group=NOTIFY_ACCOUNT, mode="2750"),
    ]


def make_key(host: str) -> str:
    """The account (the base role keeps it afterwards) and a key pair that never leaves the host."""
    return "\n".join([
        f"id -u {ACCOUNT} >/dev/null 2>&1 || useradd --system --create-home --home-dir {HOME} --shell /bin/sh {ACCOUNT}",
        f"install -d -o {ACCOUNT} -g {ACCOUNT} -m 0700 {HOME}/.ssh",
        f"ssh-keygen -q -t ed25519 -N '' -C {q(f'{ACCOUNT}@{host}')} -f {KEY}",
        f"chown {ACCOUNT}:{ACCOUNT} {KEY} {KEY}.pub",
    ])
