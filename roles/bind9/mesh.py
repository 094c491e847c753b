"""A host's address on the WireGuard mesh, as the wireguard role defines it.

The wireguard role owns that address (a fixed one, or one it derives from
the host's name), so DNS asks that role rather than repeating its rule;
`vars.wireguard.address` is the fallback should the role not offer it.
"""

from __future__ import annotations

import ipaddress


def mesh_address(host) -> str | None:
    """The host's mesh address without its prefix length, or None off the mesh."""
    if "wireguard" not in host.roles:
        return None
    value = _from_wireguard_role(host)
    if value is None:
        value = (host.vars.get("wireguard") or {}).get("address")
    if not value:
        return None
    try:
        return str(ipaddress.ip_interface(str(value)).ip)
    except ValueError:
        return None


def _from_wireguard_role(host):
    try:
        from fleetfab.roles.wireguard.mesh import member
    except ImportError:
        return None
    try:
        return str(member(host).address)
    except (KeyError, ValueError):
        return None  # settings the wireguard role itself reports as problems
