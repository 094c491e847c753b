"""The mesh as data: each member's interface, and the peers one member should have.

Pure functions of the inventory (and, for peers, of the public keys the hosts
export), so the whole desired mesh can be checked without a host.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from fleetfab.roles.wireguard.allocation import Address, address_of
from fleetfab.roles.wireguard.settings import Endpoint, parse_endpoint

ROLE = "wireguard"


@dataclass(frozen=True)
class Member:
    """One host's place in the mesh."""

    name: str
    address: Address
    prefixlen: int
    listen_port: int
    #: where peers dial this host; None when it is behind NAT
    endpoint: Endpoint | None
    behind_nat: bool
    keepalive: int
    mtu: int

    @property
    def interface_address(self) -> str:
        """The address with the mesh's prefix, as wg-quick's Address takes it."""
        return f"{self.address}/{self.prefixlen}"

    @property
    def host_route(self) -> str:
        """The one address a peer may send from: its AllowedIPs."""
        return f"{self.address}/{self.address.max_prefixlen}"


@dataclass(frozen=True)
class Peer:
    """One [Peer] of a member's configuration."""

    name: str
    public_key: str
    allowed_ips: tuple[str, ...]
    endpoint: Endpoint | None
    #: PersistentKeepalive, sent only by a member behind NAT
    keepalive: int | None


def member(host) -> Member:
    """A host's Member, from its merged settings (validated already)."""
    s = host.settings(ROLE)
    network = ipaddress.ip_network(s["network"])
    endpoint = None
    if not s["behind_nat"]:
        endpoint = parse_endpoint(s.get("endpoint") or _bracket(host.address), s["listen_port"])
    return Member(
        name=host.name,
        address=address_of(host.name, network, s.get("address")),
        prefixlen=network.prefixlen,
        listen_port=s["listen_port"],
        endpoint=endpoint,
        behind_nat=s["behind_nat"],
        keepalive=s["keepalive"],
        mtu=s["mtu"],
    )


def _bracket(address: str) -> str:
    return f"[{address}]" if ":" in address else address


def members(inventory) -> list[Member]:
    """Every mesh member, in inventory order."""
    return [member(h) for h in inventory.with_role(ROLE)]


def peers_of(me: Member, everyone: list[Member], public_keys: dict[str, str]) -> list[Peer]:
    """One peer per other member: full mesh, each allowed only its own address.

    A member behind NAT is never dialled (no Endpoint), and one behind NAT
    keeps every tunnel alive itself, so its NAT mapping stays open. Two
    members both behind NAT have no way to start a tunnel to each other.
    """
    keepalive = me.keepalive if me.behind_nat else None
    return [
        Peer(other.name, public_keys[other.name], (other.host_route,), other.endpoint, keepalive)
        for other in everyone
        if other.name != me.name
    ]


def reachable(a: Member, b: Member) -> bool:
    """Whether a tunnel between two members can ever come up."""
    return not (a.behind_nat and b.behind_nat)
