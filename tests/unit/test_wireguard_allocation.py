"""Mesh addresses: fixed where the inventory says, else stable from the host's own name."""

from __future__ import annotations

import ipaddress

import pytest

from fleetfab.roles.wireguard import allocation
from fleetfab.roles.wireguard.mesh import members
from tests.unit.wireguard_fleet import MESH, write_and_load

NETWORK = ipaddress.ip_network("100.64.0.0/24")
NAMES = [f"node{i}" for i in range(12)]


def addresses(names, network=NETWORK) -> dict[str, ipaddress.IPv4Address]:
    return {name: allocation.allocated(name, network) for name in names}


def test_the_same_name_always_gets_the_same_address():
    assert addresses(NAMES) == addresses(list(reversed(NAMES)))


def test_adding_hosts_renumbers_none_of_the_others():
    before = addresses(NAMES)
    after = addresses(NAMES + ["newcomer", "another"])
    assert {n: after[n] for n in NAMES} == before


def test_removing_hosts_renumbers_none_of_the_others():
    before = addresses(NAMES)
    after = addresses(NAMES[::2])
    assert all(after[n] == before[n] for n in NAMES[::2])


def test_allocated_addresses_are_usable_host_addresses_of_the_network():
    for name in [f"h{i}" for i in range(300)]:
        address = allocation.allocated(name, ipaddress.ip_network("100.64.0.0/30"))
        assert address in (ipaddress.ip_address("100.64.0.1"), ipaddress.ip_address("100.64.0.2"))


def test_allocation_works_in_an_ipv6_mesh():
    network = ipaddress.ip_network("fd00:64::/64")
    address = allocation.allocated("alpha", network)
    assert address in network and address != network.network_address


@pytest.mark.parametrize("address, usable", [
    ("100.64.0.0", False), ("100.64.0.255", False), ("100.64.1.1", False), ("100.64.0.1", True), ("100.64.0.254", True),
])
def test_only_the_network_and_broadcast_addresses_are_reserved(address, usable):
    assert allocation.usable(NETWORK, ipaddress.ip_address(address)) is usable


def test_a_fixed_address_wins_over_the_allocated_one(tmp_path):
    mesh = {m.name: m for m in members(write_and_load(tmp_path))}
    assert str(mesh["alpha"].address) == "100.64.0.10"
    assert mesh["bravo"].address == allocation.allocated("bravo", NETWORK)


def test_pinning_a_fixed_address_renumbers_nobody_else(tmp_path):
    before = {m.name: m.address for m in members(write_and_load(tmp_path))}
    pinned = MESH.replace("{address: 198.18.0.12, groups: [mesh]}",
                          "{address: 198.18.0.12, groups: [mesh], vars: {wireguard: {address: 100.64.0.99}}}")
    after = {m.name: m.address for m in members(write_and_load(tmp_path, pinned))}
    assert str(after.pop("bravo")) == "100.64.0.99"
    assert all(before[name] == address for name, address in after.items())


def test_clashes_name_every_holder_of_a_shared_address():
    a = ipaddress.ip_address("100.64.0.5")
    b = ipaddress.ip_address("100.64.0.6")
    assert allocation.clashes({"x": a, "y": b, "z": a}) == {a: ["x", "z"]}


def test_a_free_suggestion_is_never_taken():
    taken = set(addresses(NAMES).values())
    suggestion = allocation.free_suggestion("node3", NETWORK, taken)
    assert suggestion not in taken and allocation.usable(NETWORK, suggestion)
