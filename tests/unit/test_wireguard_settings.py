"""Mesh settings mistakes are reported with file, line and field, before any host is touched."""

from __future__ import annotations

import ipaddress

import pytest

from fleetfab.roles.wireguard.allocation import allocated
from fleetfab.roles.wireguard.settings import Endpoint, parse_endpoint


def mesh(hosts: str, network: str = "100.64.0.0/24") -> str:
    return f"""
groups:
  mesh:
    roles: [wireguard]
    vars:
      wireguard:
        network: {network}
hosts:
{hosts}"""


def test_a_fixed_address_outside_the_mesh_is_refused(problems):
    found = problems(mesh("  a:\n    address: 198.18.0.1\n    groups: [mesh]\n    vars: {wireguard: {address: 100.65.0.1}}\n"))
    assert found == ["11: hosts.a.vars.wireguard.address: 100.65.0.1 is outside the mesh network 100.64.0.0/24"]


@pytest.mark.parametrize("address", ["100.64.0.0", "100.64.0.255"])
def test_the_network_and_broadcast_addresses_are_refused(problems, address):
    found = problems(mesh(f"  a:\n    address: 198.18.0.1\n    groups: [mesh]\n    vars: {{wireguard: {{address: {address}}}}}\n"))
    assert found == [f"11: hosts.a.vars.wireguard.address: {address} is a reserved address of the mesh network 100.64.0.0/24"]


def test_a_fixed_address_on_another_hosts_allocated_address_is_refused_on_both(problems):
    taken = allocated("b", ipaddress.ip_network("100.64.0.0/24"))
    found = problems(mesh(
        f"  a:\n    address: 198.18.0.1\n    groups: [mesh]\n    vars: {{wireguard: {{address: {taken}}}}}\n"
        "  b:\n    address: 198.18.0.2\n    groups: [mesh]\n"))
    assert len(found) == 2
    assert found[0].startswith(f"11: hosts.a.vars.wireguard.address: its fixed address {taken} is also held by b; pin one")
    assert found[1].startswith(f"12: hosts.b.vars.wireguard.address: its allocated address {taken} is also held by a; pin one")


def test_members_on_different_networks_are_refused(problems):
    found = problems(mesh(
        "  a: {address: 198.18.0.1, groups: [mesh]}\n"
        "  b: {address: 198.18.0.2, groups: [mesh]}\n"
        "  c: {address: 198.18.0.3, groups: [mesh], vars: {wireguard: {network: 100.64.1.0/24}}}\n"))
    assert found == ["10: hosts.c.vars.wireguard.network: every mesh member needs the same network; most have 100.64.0.0/24"]


def test_a_network_with_no_room_for_two_hosts_is_refused(problems):
    found = problems(mesh("  a: {address: 198.18.0.1, groups: [mesh]}\n", network="100.64.0.0/31"))
    assert found == ["6: hosts.a.vars.wireguard.network: too small for a mesh (needs two host addresses)"]


def test_a_missing_network_is_required(problems):
    found = problems("hosts:\n  a: {address: 198.18.0.1, roles: [wireguard]}\n")
    assert found == ["2: hosts.a.vars.wireguard.network: required, and no layer sets it"]


def test_schema_errors_name_the_field(problems):
    found = problems(mesh("  a:\n    address: 198.18.0.1\n    groups: [mesh]\n"
                          "    vars: {wireguard: {listen_port: 70000, mtu: 100, behind_nat: maybe, colour: red}}\n"))
    assert "11: hosts.a.vars.wireguard.listen_port: expected a whole number from 1 to 65535, got 70000" in found
    assert "11: hosts.a.vars.wireguard.mtu: expected a whole number from 1280 to 9000, got 100" in found
    assert "11: hosts.a.vars.wireguard.behind_nat: expected true or false, got 'maybe'" in found
    assert any(p.startswith("11: hosts.a.vars.wireguard.colour: unknown key 'colour'") for p in found)


def test_a_malformed_endpoint_is_refused(problems):
    found = problems(mesh("  a:\n    address: 198.18.0.1\n    groups: [mesh]\n    vars: {wireguard: {endpoint: 'gw.example.net:99999'}}\n"))
    assert found == ["11: hosts.a.vars.wireguard.endpoint: not an endpoint: port 99999 is out of range"]


@pytest.mark.parametrize("text, expected", [
    ("198.18.0.1", Endpoint("198.18.0.1", 51820)),
    ("198.18.0.1:4500", Endpoint("198.18.0.1", 4500)),
    ("gw.example.net", Endpoint("gw.example.net", 51820)),
    ("2001:db8::1", Endpoint("2001:db8::1", 51820)),
    ("[2001:db8::1]:4500", Endpoint("2001:db8::1", 4500)),
])
def test_endpoints_take_the_listen_port_unless_they_name_one(text, expected):
    assert parse_endpoint(text, 51820) == expected


def test_an_ipv6_endpoint_is_written_in_brackets():
    assert str(Endpoint("2001:db8::1", 4500)) == "[2001:db8::1]:4500"
