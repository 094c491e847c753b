"""What every host gives the ops hosts: an account that can run fleetfab's read side, and nothing else.

The base role states it on every host of an inventory with an ops host. The
key is the ops host's own (made there, never copied). On every host it is
accepted only from where the ops host's connections come from, and forced to
one command: sudo of fleetfab's read program (roles/controller/keyline.py).
sudo lets the account run that program alone, pinned by its digest
(roles/controller/pinned.py). The program answers requests of a closed
vocabulary and never executes what it is sent (fleetfab.readside), so whoever
holds the ops host can read what drift reads, and nothing more.
"""

from __future__ import annotations

from fleetfab.readside import FORCED_COMMAND, PROGRAM, host_resources, program_digest
from fleetfab.resources import Directory, File, User
from fleetfab.resources.blocked import Blocked
from fleetfab.role import needs_exports
from fleetfab.roles.controller.keyline import NotAnAddress, key_line
from fleetfab.roles.controller.pinned import pinned_program
from fleetfab.roles.controller.settings import ACCOUNT, AUTHORIZED_KEYS, HOME

ROLE = "controller"


def ops_hosts(inventory) -> list:
    return inventory.with_role(ROLE)


def drift_account(ctx) -> list:
    """The account, the read program between its sudo rules, then the key that runs it.

    The key's line comes last: it forces the program, so it never names one
    that is not there yet.
    """
    ops = ops_hosts(ctx.inventory)
    if not ops:
        return []
    return [
        User(ACCOUNT, shell="/bin/sh", home=HOME, comment="fleetfab drift checks"),
        Directory(f"{HOME}/.ssh", owner=ACCOUNT, group=ACCOUNT, mode="0700"),
        *pinned_program(program_digest(), PROGRAM, host_resources(ctx)),
        *ops_key(ctx, ops, FORCED_COMMAND),
    ]


def ops_key(ctx, ops, command: str) -> list:
    """The ops hosts' key lines; the host's current file kept while a key or an address is missing."""
    try:
        return needs_exports(lambda: [authorized_keys(ctx, ops, command)], "the ops hosts' key for drift checks",
                             keep=AUTHORIZED_KEYS)
    except NotAnAddress as exc:
        return [Blocked(f"file {AUTHORIZED_KEYS}", str(exc), keep=AUTHORIZED_KEYS)]


def authorized_keys(ctx, ops, command: str) -> File:
    lines = [key_line(ctx.inventory, ctx.host, ops_host, ctx.export(ops_host.name, "public_key", role=ROLE), command)
             for ops_host in ops]
    return File(AUTHORIZED_KEYS, "".join(lines), owner=ACCOUNT, group=ACCOUNT, mode="0600")
