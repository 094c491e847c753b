"""The vmhost role in the lab: libvirt with QEMU emulating the CPU, and guests that are inventory hosts."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from fleetfab.keysource import parse_keys
from fleetfab.roles.vmhost.console import console_keys_script
from fleetfab.roles.vmhost.guests import guest_network, guests_on
from fleetfab.roles.vmhost.layout import Layout
from fleetfab.roles.vmhost.seedfiles import seed_files

ROLE = "vmhost"


@pytest.fixture(scope="module")
def guests(inventory, spec):
    return guests_on(inventory, spec)


def test_libvirtd_runs(host):
    assert host.service("libvirtd").is_running


def test_the_pool_and_networks_are_active_and_start_at_boot(host, spec):
    pool = host.check_output("virsh -q pool-info fleetfab")
    assert "State:          running" in pool and "Autostart:      yes" in pool
    for name in spec.settings(ROLE)["networks"]:
        info = host.check_output(f"virsh -q net-info {name}")
        assert "Active:         yes" in info and "Autostart:      yes" in info


def test_every_declared_guest_runs_and_starts_at_boot(host, guests):
    assert guests, "the lab declares no guest"
    for guest in guests:
        assert host.check_output(f"virsh -q domstate {guest.name}") == "running"
        assert "Autostart:      enable" in host.check_output(f"virsh -q dominfo {guest.name}")


def test_a_guests_definition_states_its_declared_cpus_memory_and_mac(host, guests):
    for guest in guests:
        root = ET.fromstring(host.check_output(f"virsh dumpxml --inactive {guest.name}"))
        assert int(root.find("vcpu").text) == guest.cpus
        assert int(root.find("memory").text) == guest.memory * 1024  # libvirt answers in KiB
        assert root.find("devices/interface/mac").get("address") == guest.mac
        assert root.get("type") == "qemu"


def test_a_guests_disk_is_an_overlay_on_the_read_only_base_image(host, spec, guests):
    layout = Layout.of(spec.settings(ROLE))
    for guest in guests:
        info = host.check_output(f"qemu-img info -U {layout.disk(guest.name)}")
        assert f"backing file: {layout.images}/{guest.image}.qcow2" in info
        assert "backing file format: qcow2" in info
        assert host.file(f"{layout.images}/{guest.image}.qcow2").mode == 0o444


def test_the_seed_iso_holds_exactly_the_three_files_the_inventory_makes(host, inventory, spec, guests):
    layout = Layout.of(spec.settings(ROLE))
    for guest in guests:
        iso = layout.seed(guest.name)
        listing = host.check_output(f"isoinfo -R -f -i {iso}").split()
        assert sorted(listing) == ["/meta-data", "/network-config", "/user-data"]
        for name, content in seed_files(inventory, guest, guest_network(spec.settings(ROLE), guest)):
            assert host.check_output(f"isoinfo -R -i {iso} -x /{name}") + "\n" == content


def test_the_guests_ssh_key_is_the_one_its_console_showed(host, connect, spec, guests):
    layout = Layout.of(spec.settings(ROLE))
    for guest in guests:
        told = parse_keys(host.check_output(console_keys_script(layout.console(guest.name))))
        served = connect(guest.name).check_output("cat /etc/ssh/ssh_host_ed25519_key.pub").split()
        assert told["ssh-ed25519"] == served[1]


def test_a_guest_answers_through_its_vm_host_with_its_own_name_and_address(connect, guests):
    for guest in guests:
        inside = connect(guest.name)
        assert inside.check_output("hostname") == guest.name
        assert f"{guest.address}/" in inside.check_output("ip -br -4 addr show")
        assert inside.check_output("systemd-detect-virt") == "qemu"
