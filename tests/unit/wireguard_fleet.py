"""A small mesh inventory, and desired state computed from it with canned public keys."""

from __future__ import annotations

import textwrap

from fleetfab.exports import ExportBook
from fleetfab.inventory import load_inventory
from fleetfab.redact import Redactor
from fleetfab.role import RoleContext
from fleetfab.roles.wireguard import WireGuard

MESH = """
    groups:
      mesh:
        roles: [wireguard]
        vars:
          wireguard:
            network: 100.64.0.0/24
    hosts:
      alpha: {address: 198.18.0.11, groups: [mesh], vars: {wireguard: {address: 100.64.0.10}}}
      bravo: {address: 198.18.0.12, groups: [mesh]}
      charlie:
        address: 198.18.0.13
        groups: [mesh]
        vars:
          wireguard: {behind_nat: true}
      delta:
        address: 198.18.0.14
        groups: [mesh]
        vars:
          wireguard: {listen_port: 51821, endpoint: "198.19.0.14", mtu: 1380}
"""

#: what `wg pubkey` would print on each host (made-up, well-formed keys)
PUBLIC_KEYS = {
    "alpha": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    "bravo": "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA=",
    "charlie": "CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCA=",
    "delta": "DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDA=",
}


def write_and_load(tmp_path, text: str = MESH):
    path = tmp_path / "mesh.yml"
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return load_inventory(path)


def context(inventory, host: str, keys: dict[str, str] = PUBLIC_KEYS) -> RoleContext:
    book = ExportBook(Redactor())
    for name, key in keys.items():
        book.put(name, "wireguard", "public_key", key)
    return RoleContext(inventory, inventory.hosts[host], "wireguard", book)


def desired(inventory, host: str, keys: dict[str, str] = PUBLIC_KEYS) -> dict:
    """The host's resources, by key."""
    return {r.key: r for r in WireGuard().resources(context(inventory, host, keys))}
