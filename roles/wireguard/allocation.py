"""Mesh addresses: a fixed address from the inventory, or one derived from the name.

The rule. A host without a fixed `address` gets the first *candidate* of its
own name that is a usable host address of the mesh network:

    candidate(name, k) = network[ sha256("fleetfab-wireguard/<name>/<k>") mod size ]   k = 0, 1, 2 ...

where "usable" only excludes the network's own address and, for IPv4, its
broadcast address. Nothing else is skipped.

Why no probing past addresses other hosts hold. Stability means a host keeps
its address while other hosts come and go. Suppose some rule resolved a clash
between hosts A and B automatically. Alone, each host's address is a function
of its name only: g(A), g(B). Adding B to {A} must not renumber A, and adding A
to {B} must not renumber B; so in {A, B} they hold g(A) and g(B), and if
g(A) == g(B) no rule can keep both promises. Any stable stateless scheme is
therefore a function of the host's own name, and a clash cannot be resolved
silently: `check` reports it before anything is touched, and the operator pins
one of the two (the newcomer, so nobody renumbers) with a fixed `address`;
the message suggests a free one. With n hosts in a network of s addresses a
clash has a chance of about n*n/(2*s): give the mesh room (a /20 holds
hundreds of hosts with few clashes) or pin addresses.
"""

from __future__ import annotations

import hashlib
import ipaddress
from typing import Iterable, Iterator

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Net = ipaddress.IPv4Network | ipaddress.IPv6Network


def usable(network: Net, address: Address) -> bool:
    """Inside the network, and neither its network nor (IPv4) broadcast address."""
    if address not in network:
        return False
    if address == network.network_address:
        return False
    return network.version == 6 or address != network.broadcast_address


def room(network: Net) -> bool:
    """A mesh needs at least two usable host addresses."""
    reserved = 1 if network.version == 6 else 2
    return network.num_addresses - reserved >= 2


def candidates(name: str, network: Net) -> Iterator[Address]:
    """The name's own sequence of usable addresses; it depends on nothing else."""
    k = 0
    while True:
        digest = hashlib.sha256(f"fleetfab-wireguard/{name}/{k}".encode()).digest()
        address = network[int.from_bytes(digest[:16], "big") % network.num_addresses]
        if usable(network, address):
            yield address
        k += 1


def allocated(name: str, network: Net) -> Address:
    return next(candidates(name, network))


def address_of(name: str, network: Net, fixed: str | None) -> Address:
    """A host's mesh address: its fixed one when set, else its allocated one."""
    return ipaddress.ip_address(fixed) if fixed else allocated(name, network)


def clashes(addresses: dict[str, Address]) -> dict[Address, list[str]]:
    """Addresses held by more than one host, with those hosts in input order."""
    holders: dict[Address, list[str]] = {}
    for name, address in addresses.items():
        holders.setdefault(address, []).append(name)
    return {address: names for address, names in holders.items() if len(names) > 1}


def free_suggestion(name: str, network: Net, taken: Iterable[Address]) -> Address | None:
    """A usable address nobody holds, preferring the name's own sequence."""
    taken = set(taken)
    sequence = candidates(name, network)
    for _ in range(64):
        address = next(sequence)
        if address not in taken:
            return address
    return next((a for a in network.hosts() if a not in taken), None)
