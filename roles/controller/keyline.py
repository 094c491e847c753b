"""The ops key's line in a host's authorized_keys: one command, from the ops host alone.

`restrict` takes from the key everything sshd lets a key do (a pty, port,
agent and X11 forwarding, ~/.ssh/rc), and whatever the client asks to run,
sshd runs `command=` instead: sudo of fleetfab's read program
(fleetfab.readside). `from=` names the addresses the ops host's connections
to that host arrive from. A host others are reached through (a VM host's
guests on its NAT network, the hosts it is the jump host of) lets the key
forward to those hosts' SSH ports and nowhere else: `port-forwarding` gives
back forwarding alone, `permitopen` names each destination.

Every value comes from the inventory, checked to be an IP address: nothing a
host answered is ever written into another host's options.
"""

from __future__ import annotations

import ipaddress

class NotAnAddress(ValueError):
    """An inventory value a key option needs as an IP address is not one."""


def key_line(inventory, host, ops_host, public_key: str, command: str) -> str:
    """The ops host's key, as `host` accepts it."""
    options = ["restrict", f'from="{",".join(sources(inventory, host, ops_host))}"', f'command="{command}"']
    opens = forwards(inventory, host)
    if opens:
        options += ["port-forwarding", *(f'permitopen="{destination}"' for destination in opens)]
    return f"{','.join(options)} {public_key}\n"


def sources(inventory, host, ops_host) -> list[str]:
    """Where the ops host's connections to `host` come from, as `host` sees them.

    Directly: the ops host's own address, and its mesh address when both are
    on the mesh. Through a gateway: the gateway's, or for a guest on a NAT
    network its VM host's address on that network.
    """
    from fleetfab.roles.vmhost.guests import side_address

    if host.gateway is None:
        found = addresses(ops_host, host)
    else:
        side = side_address(inventory, host)
        found = [side] if side else addresses(host.gateway, host)
    return list(dict.fromkeys(checked(value, host) for value in found))


def addresses(origin, target) -> list[str]:
    """`origin`'s inventory address, and its mesh address when `target` is on the mesh too."""
    from fleetfab.roles.bind9.mesh import mesh_address

    found = [origin.address]
    mesh, reached = mesh_address(origin), mesh_address(target)
    if mesh and reached:
        found.append(mesh)
    return found


def forwards(inventory, host) -> list[str]:
    """`address:port` of each host reached through `host`, as permitopen reads it; none on other hosts."""
    from fleetfab.roles.sshd import destination

    behind = [h for h in inventory.hosts.values() if h.gateway is not None and h.gateway.name == host.name]
    for other in behind:
        checked(other.address, other)
    return [destination(other) for other in behind]


def checked(value: str, host) -> str:
    """The address, normalised, or NotAnAddress: sshd matches `from=` by address (it resolves no names).

    The inventory accepts only addresses for hosts already; this keeps any
    other value out of the options should that ever change.
    """
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise NotAnAddress(f"{value!r} is not an IP address: the ops key's options on {host.name} need one "
                           f"(sshd matches from= and permitopen by address)") from None
