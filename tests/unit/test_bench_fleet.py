"""The benchmark's fleet: addresses, endpoints, known_hosts and the generated inventories."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest
import yaml

from bench import fleet
from bench.workload import ADMIN_KEY, roles
from fleetfab.inventory import load_inventory

SSH = fleet.SshFiles(Path("/lab/id_ed25519"), Path("/lab/bench/known_hosts"))


def test_twenty_machines_on_the_bench_block_never_the_main_lab():
    machines = fleet.machines(20)
    assert [m.name for m in machines[:2]] == ["bench01", "bench02"] and machines[-1].name == "bench20"
    addresses = [ipaddress.ip_address(m.address) for m in machines]
    assert len(set(addresses)) == 20
    assert all(a in fleet.NETWORK for a in addresses)
    assert not any(a in fleet.MAIN_LAB for a in addresses)


@pytest.mark.parametrize("count", [0, -1, 10_000])
def test_a_fleet_size_out_of_range_is_refused(count):
    with pytest.raises(fleet.FleetError, match="N must be between"):
        fleet.machines(count)


@pytest.mark.parametrize("network", ["198.18.0.0/24", "198.18.0.0/23", "10.0.0.0/24", "192.168.5.0/24"])
def test_networks_outside_the_bench_range_or_over_the_main_lab_are_refused(network):
    with pytest.raises(fleet.FleetError):
        fleet.machines(3, ipaddress.ip_network(network))


def test_proxy_endpoints_are_loopback_ports_one_per_machine():
    machines = fleet.machines(3)
    endpoints = fleet.proxy_endpoints(machines, base_port=40000)
    assert [(e.host, e.port) for e in endpoints] == [("127.0.0.1", 40000), ("127.0.0.1", 40001), ("127.0.0.1", 40002)]
    assert [e.known_hosts_name for e in endpoints][0] == "[127.0.0.1]:40000"
    assert fleet.direct_endpoints(machines)[0].known_hosts_name == machines[0].address


def test_known_hosts_lists_every_key_of_every_endpoint():
    machines = fleet.machines(2)
    text = fleet.known_hosts_text(fleet.proxy_endpoints(machines, 40000), [["ssh-ed25519 AAAA1", "ecdsa-sha2-nistp256 BBBB1"], ["ssh-ed25519 AAAA2"]])
    assert text == "[127.0.0.1]:40000 ssh-ed25519 AAAA1\n[127.0.0.1]:40000 ecdsa-sha2-nistp256 BBBB1\n[127.0.0.1]:40001 ssh-ed25519 AAAA2\n"


def test_the_fleetfab_inventory_loads_with_the_bench_roles(tmp_path):
    machines = fleet.machines(20)
    document = fleet.fleetfab_inventory(machines, fleet.proxy_endpoints(machines), SSH, ADMIN_KEY, fleet.gateway())
    path = tmp_path / "bench.yml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    inventory = load_inventory(path, roles=roles())
    hosts = list(inventory.hosts.values())
    assert len(hosts) == 20 and inventory.parallel == 20
    assert list(hosts[0].roles) == ["base", "bench"] and hosts[0].port == fleet.PROXY_BASE_PORT
    assert inventory.ssh.trust_on_first_use is False
    assert inventory.ssh.known_hosts == SSH.known_hosts


def test_the_peer_inventories_carry_the_same_ssh_settings():
    machines = fleet.machines(2)
    endpoints = fleet.direct_endpoints(machines)
    namespace: dict = {}
    exec(fleet.pyinfra_inventory(machines, endpoints, SSH), namespace)  # noqa: S102 - our own generated file
    hosts, data = namespace["bench"]
    assert hosts == [("bench01", {"ssh_hostname": machines[0].address, "ssh_port": 22}), ("bench02", {"ssh_hostname": machines[1].address, "ssh_port": 22})]
    assert data["ssh_user"] == "root" and data["ssh_key"] == str(SSH.key)
    assert data["ssh_known_hosts_file"] == str(SSH.known_hosts) and data["ssh_strict_host_key_checking"] == "yes"
    ansible = fleet.ansible_inventory(machines, endpoints, SSH)["bench"]
    assert ansible["hosts"]["bench02"] == {"ansible_host": machines[1].address, "ansible_port": 22}
    assert ansible["vars"]["ansible_user"] == "root" and ansible["vars"]["ansible_ssh_private_key_file"] == str(SSH.key)


def test_hosts_entries_match_what_the_base_role_writes():
    machines = fleet.machines(2)
    assert fleet.hosts_entries(machines, fleet.direct_endpoints(machines)) == [[machines[0].address, ["bench01"]], [machines[1].address, ["bench02"]]]
