"""The three files of a guest's seed, from the inventory."""

from __future__ import annotations

from fleetfab.ssh import loaded_identity
from fleetfab.templates import render
from fleetfab.roles.vmhost.guests import GuestSpec, gateway_address, network_prefix


def login_key(inventory) -> str:
    """The public half of the key fleetfab logs in with: the guest's first login is fleetfab's."""
    key = loaded_identity(inventory.ssh.identity) if inventory.ssh.identity else None
    if key is None:
        raise ValueError("the vmhost role needs ssh.identity (a key file) to seed guests")
    return f"{key.get_name()} {key.get_base64()}"


def seed_files(inventory, guest: GuestSpec, network: dict) -> tuple[tuple[str, str], ...]:
    host = inventory.hosts[guest.name]
    admins = [k for admin in host.settings("base").get("admins", []) for k in admin.get("keys", [])
              if admin["name"] == host.user]
    gateway = gateway_address(network)
    values = {
        "name": guest.name, "user": host.user, "keys": [login_key(inventory), *admins],
        "instance": guest.mac.replace(":", ""), "mac": guest.mac, "address": guest.address,
        "prefix": network_prefix(network) or 24, "gateway": gateway, "dns": network.get("dns") or gateway,
    }
    return tuple((name, render(f"vmhost/{name}.j2", **values)) for name in ("user-data", "meta-data", "network-config"))
