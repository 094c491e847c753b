"""What every host gives the ops hosts: an account that drift logs in as.

The base role states it on every host of an inventory with an ops host. The
key is the ops host's own (made there, never copied), accepted only from the
ops host's address. The account has sudo because reading what drift compares
(private files, `wg show`, postconf) needs root; what keeps it from applying
is the ops host's read-only copy of the inventory (run.read_only).
"""

from __future__ import annotations

from fleetfab.resources import Directory, File, User
from fleetfab.role import needs_exports
from fleetfab.roles.controller.settings import ACCOUNT, AUTHORIZED_KEYS, HOME, SUDOERS

ROLE = "controller"


def ops_hosts(inventory) -> list:
    return inventory.with_role(ROLE)


def drift_account(ctx) -> list:
    """The account, its key from each ops host and its sudo rule; nothing without an ops host."""
    ops = ops_hosts(ctx.inventory)
    if not ops:
        return []
    return [
        User(ACCOUNT, shell="/bin/sh", home=HOME, comment="fleetfab drift checks"),
        Directory(f"{HOME}/.ssh", owner=ACCOUNT, group=ACCOUNT, mode="0700"),
        *needs_exports(lambda: [authorized_keys(ctx, ops)], "the ops hosts' key for drift checks", keep=AUTHORIZED_KEYS),
        File(SUDOERS, f"# Managed by fleetfab: drift checks from the ops host.\n{ACCOUNT} ALL=(root) NOPASSWD: ALL\n",
             mode="0440", validate="visudo -cf %s"),
    ]


def authorized_keys(ctx, ops) -> File:
    options = key_options(ctx.inventory, ctx.host)
    lines = [f'from="{",".join(sources(ctx.inventory, ctx.host, ops_host))}",{options} '
             f'{ctx.export(ops_host.name, "public_key", role=ROLE)}\n' for ops_host in ops]
    return File(AUTHORIZED_KEYS, "".join(lines), owner=ACCOUNT, group=ACCOUNT, mode="0600")


def sources(inventory, host, ops_host) -> list[str]:
    """Where the ops host's connections to `host` come from: its address, or
    the VM host's side of the NAT network for a guest reached through it."""
    from fleetfab.roles.vmhost.guests import side_address

    found = [ops_host.address]
    if host.gateway is not None:
        found.append(side_address(inventory, host) or host.gateway.address)
    return found


def key_options(inventory, host) -> str:
    """No forwarding at all, but for a host others are reached through: there
    only to its guests' SSH ports."""
    through = [h for h in inventory.hosts.values() if h.gateway is not None and h.gateway.name == host.name]
    if not through:
        return "no-agent-forwarding,no-port-forwarding,no-X11-forwarding"
    opens = ",".join(f'permitopen="{h.address}:{h.port}"' for h in through)
    return f"no-agent-forwarding,no-X11-forwarding,{opens}"
