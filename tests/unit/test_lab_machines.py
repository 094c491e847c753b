"""Lab machines are the inventory's hosts, sized and placed as it says."""

from pathlib import Path

import pytest

from fleetfab.inventory.model import Host, Inventory, SshSettings
from fleetfab.lab.machines import DOCKER_CREATE_ARGS, LabSpecError, machines

LAB = {"network": "198.18.0.0/24", "cpus": 1, "memory": 1024,
       "boxes": {"docker": "fleetfab/lab-debian:bookworm", "libvirt": "debian/bookworm64"}}


def host(name, address, lab=None):
    return Host(name=name, address=address, port=22, user="root", groups=("nodes",),
                roles=("base",), vars={}, lab=lab or {})


def inventory(*hosts, lab=None):
    return Inventory(path=Path("/repo/inventory/lab.yml"), hosts={h.name: h for h in hosts},
                     groups={}, ssh=SshSettings(), lab=lab or {})


def only(inv):
    [spec] = machines(inv)
    return spec


def test_one_machine_per_host_in_inventory_order():
    inv = inventory(host("b", "198.18.0.12"), host("a", "198.18.0.11"), lab=LAB)
    assert [m["name"] for m in machines(inv)] == ["b", "a"]


def test_machine_keeps_the_inventory_address():
    assert only(inventory(host("cp1", "198.18.0.11"), lab=LAB))["address"] == "198.18.0.11"


def test_netmask_and_prefix_come_from_the_lab_network():
    spec = only(inventory(host("cp1", "198.18.0.11"), lab={"network": "198.18.0.0/23"}))
    assert (spec["prefix"], spec["netmask"]) == (23, "255.255.254.0")


def test_without_lab_network_the_address_gets_a_slash_24():
    assert only(inventory(host("cp1", "198.18.3.7")))["prefix"] == 24


def test_address_outside_the_lab_network_is_refused():
    with pytest.raises(LabSpecError, match="outside lab.network"):
        machines(inventory(host("cp1", "198.19.0.11"), lab=LAB))


def test_size_defaults_to_the_top_level_lab_settings():
    spec = only(inventory(host("w1", "198.18.0.21"), lab=LAB))
    assert (spec["cpus"], spec["memory"]) == (1, 1024)


def test_host_lab_settings_override_the_defaults_one_by_one():
    spec = only(inventory(host("cp1", "198.18.0.11", lab={"memory": 2048}), lab=LAB))
    assert (spec["cpus"], spec["memory"]) == (1, 2048)


def test_size_falls_back_to_built_in_defaults_without_any_lab_section():
    spec = only(inventory(host("w1", "198.18.0.21")))
    assert (spec["cpus"], spec["memory"]) == (1, 1024)


def test_boxes_per_provider_come_from_the_lab_section():
    assert only(inventory(host("w1", "198.18.0.21"), lab=LAB))["boxes"]["libvirt"] == "debian/bookworm64"


def test_a_host_may_use_its_own_box():
    h = host("w1", "198.18.0.21", lab={"boxes": {"libvirt": "local/debian"}})
    boxes = only(inventory(h, lab=LAB))["boxes"]
    assert boxes == {"docker": "fleetfab/lab-debian:bookworm", "libvirt": "local/debian"}


def test_docker_args_give_systemd_and_wireguard_what_they_need():
    args = only(inventory(host("w1", "198.18.0.21"), lab=LAB))["docker_args"]
    assert args[:len(DOCKER_CREATE_ARGS)] == list(DOCKER_CREATE_ARGS)
    assert "/dev/net/tun" in args and "NET_ADMIN" in args


def test_a_machine_rebooted_from_inside_is_started_again_by_docker_unless_stopped():
    args = only(inventory(host("w1", "198.18.0.21"), lab=LAB))["docker_args"]
    assert args[args.index("--restart") + 1] == "unless-stopped"


def test_docker_args_limit_cpus_and_memory_to_the_machine_size():
    args = only(inventory(host("cp1", "198.18.0.11", lab={"cpus": 2, "memory": 2048}), lab=LAB))["docker_args"]
    assert args[-4:] == ["--cpus", "2", "--memory", "2048m"]


def test_docker_never_runs_privileged():
    assert "--privileged" not in only(inventory(host("w1", "198.18.0.21"), lab=LAB))["docker_args"]
