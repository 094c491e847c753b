"""The vmhost role: guests stated from the inventory, as libvirt XML, seeds and domains."""

from __future__ import annotations

import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

from fleetfab.inventory import InputError, load_inventory
from fleetfab.role import RoleContext
from fleetfab.roles.vmhost import VmHost
from fleetfab.roles.vmhost.domain import Domain, UnknownGuests
from fleetfab.roles.vmhost.guests import derived_mac
from fleetfab.roles.vmhost.seed import SeedIso
from tests.unit.vmhost_fleet import VM_FLEET, write_fleet


@pytest.fixture
def fleet(write_inventory):
    return load_inventory(write_fleet(write_inventory))


def resources(inventory, host="hv1"):
    return {r.key: r for r in VmHost().resources(RoleContext(inventory, inventory.hosts[host], "vmhost"))}


def problems_of(write_inventory, text):
    with pytest.raises(InputError) as caught:
        load_inventory(write_fleet(write_inventory, text))
    return [(p.field, p.message) for p in caught.value.problems]


def domain_xml(inventory, guest="g1") -> ET.Element:
    return ET.fromstring(resources(inventory)[f"file /etc/fleetfab/libvirt/domain-{guest}.xml"].content)


# -- the domain ------------------------------------------------------------------


def test_the_domain_states_the_declared_cpus_memory_and_mac(fleet):
    root = domain_xml(fleet)
    assert root.find("vcpu").text == "1"
    assert (root.find("memory").text, root.find("memory").get("unit")) == ("512", "MiB")
    assert root.find("devices/interface/mac").get("address") == derived_mac("g1")


def test_the_domain_boots_its_overlay_disk_and_seed_with_the_images_kernel(fleet):
    root = domain_xml(fleet)
    disks = [d.find("source").get("file") for d in root.findall("devices/disk")]
    assert disks == ["/var/lib/libvirt/images/fleetfab/guests/g1.qcow2", "/var/lib/libvirt/images/fleetfab/seed/g1.iso"]
    assert root.find("os/kernel").text == "/var/lib/libvirt/images/fleetfab/base/bookworm.vmlinuz"
    assert root.find("os/cmdline").text == "root=/dev/vda console=ttyS0"


def test_software_emulation_uses_a_cpu_model_not_host_passthrough(fleet):
    root = domain_xml(fleet)
    assert root.get("type") == "qemu" and root.find("cpu").get("mode") == "custom"


def test_the_disks_declared_size_is_what_the_overlay_is_created_with(fleet):
    guest = resources(fleet)["guest g1"]
    script = guest.fix(guest.compare("@absent"))
    assert "qemu-img create -q -f qcow2 -F qcow2 -b /var/lib/libvirt/images/fleetfab/base/bookworm.qcow2" in script
    assert script.split("qemu-img create")[1].split("\n")[0].endswith(" 4G")


@pytest.mark.skipif(shutil.which("virt-xml-validate") is None, reason="virt-xml-validate (libvirt-clients) is not installed")
@pytest.mark.parametrize("key, schema", [("file /etc/fleetfab/libvirt/domain-g1.xml", "domain"),
                                         ("file /etc/fleetfab/libvirt/network-guests.xml", "network"),
                                         ("file /etc/fleetfab/libvirt/pool-fleetfab.xml", "storagepool")])
def test_the_xml_passes_libvirts_own_schema(fleet, tmp_path, key, schema):
    path = tmp_path / "candidate.xml"
    path.write_text(resources(fleet)[key].content)
    result = subprocess.run(["virt-xml-validate", str(path), schema], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_xml_is_validated_on_the_host_before_it_is_defined(fleet):
    files = [r for key, r in resources(fleet).items() if key.startswith("file /etc/fleetfab/libvirt/")]
    assert files and all(f.validate.startswith("virt-xml-validate %s ") for f in files)


# -- the seed --------------------------------------------------------------------


def seed(inventory, guest="g1") -> dict:
    resource = resources(inventory)[f"seed /var/lib/libvirt/images/fleetfab/seed/{guest}.iso"]
    assert isinstance(resource, SeedIso)
    return dict(resource.files)


def test_the_seed_holds_exactly_user_data_meta_data_and_network_config(fleet):
    assert list(seed(fleet)) == ["user-data", "meta-data", "network-config"]


def test_the_seed_gives_the_guest_its_static_address_matched_by_mac(fleet):
    import yaml

    config = yaml.safe_load(seed(fleet)["network-config"])
    nic = config["ethernets"]["primary"]
    assert config["version"] == 2
    assert nic["match"]["macaddress"] == derived_mac("g1")
    assert nic["addresses"] == ["198.18.100.11/24"] and nic["routes"] == [{"to": "0.0.0.0/0", "via": "198.18.100.1"}]


def test_the_seed_authorizes_the_key_fleetfab_logs_in_with(fleet):
    import yaml

    from fleetfab.roles.vmhost.seedfiles import login_key

    user_data = seed(fleet)["user-data"]
    assert user_data.startswith("#cloud-config\n")
    users = yaml.safe_load(user_data)["users"]
    assert users[0]["name"] == "root" and users[0]["ssh_authorized_keys"] == [login_key(fleet)]


@pytest.mark.skipif(shutil.which("genisoimage") is None or shutil.which("isoinfo") is None,
                    reason="genisoimage is not installed")
def test_the_built_seed_iso_reads_back_as_the_files_it_was_made_of(fleet, tmp_path):
    resource = resources(fleet)["seed /var/lib/libvirt/images/fleetfab/seed/g1.iso"]
    local = SeedIso(str(tmp_path / "seed.iso"), resource.files)
    subprocess.run(["sh", "-c", local.fix(local.compare("@absent"))], check=True)
    probe = subprocess.run(["sh", "-c", local.probe()], capture_output=True, text=True, check=True).stdout
    assert local.compare(probe) is None
    label = subprocess.run(["isoinfo", "-d", "-i", str(tmp_path / "seed.iso")], capture_output=True, text=True).stdout
    assert "Volume id: cidata" in label


# -- guests as inventory hosts ---------------------------------------------------


def test_a_mac_is_derived_from_the_name_and_stays_the_same():
    assert derived_mac("g1") == derived_mac("g1") != derived_mac("g2")
    assert derived_mac("g1").startswith("52:54:00:")


def test_a_guest_on_a_nat_network_is_reached_through_its_vm_host(fleet):
    assert fleet.hosts["g1"].gateway.name == "hv1"
    assert fleet.hosts["hv1"].gateway is None


def test_a_guest_on_a_host_without_the_role_is_refused_naming_the_field(write_inventory):
    text = VM_FLEET.replace("vm: {host: hv1, cpus: 1", "vm: {host: g2, cpus: 1")
    assert ("hosts.g1.vm.host", "g2 does not have the vmhost role") in problems_of(write_inventory, text)


def test_a_guest_on_an_unknown_host_is_refused(write_inventory):
    text = VM_FLEET.replace("vm: {host: hv1, cpus: 1", "vm: {host: hv9, cpus: 1")
    assert ("hosts.g1.vm.host", "no host 'hv9' in the inventory") in problems_of(write_inventory, text)


def test_two_guests_with_one_mac_are_refused(write_inventory):
    text = VM_FLEET.replace('mac: "52:54:00:00:00:02"', f'mac: "{derived_mac("g1")}"')
    assert ("hosts.g2.vm.mac", f"MAC {derived_mac('g1')} is already g1's") in problems_of(write_inventory, text)


def test_guests_beyond_the_hosts_capacity_times_its_ratio_are_refused(write_inventory):
    text = VM_FLEET.replace("cpus: 2, memory: 1024, disk: 8G", "cpus: 2, memory: 1800, disk: 8G")
    found = problems_of(write_inventory, text)
    assert ("hosts.hv1.vars.vmhost.capacity.memory",
            "guests declare 2312 MiB, more than 2048 x 1 (g1, g2)") in found


def test_a_guest_outside_its_networks_range_is_refused(write_inventory):
    text = VM_FLEET.replace("address: 198.18.100.12", "address: 198.18.101.12")
    assert any(f == "hosts.g2.address" for f, _ in problems_of(write_inventory, text))


def test_an_unknown_image_is_refused_naming_the_images_there_are(write_inventory):
    text = VM_FLEET.replace("disk: 8G,", "disk: 8G, image: trixie,")
    assert ("hosts.g2.vm.image", "hv1 has no image 'trixie' (images: bookworm)") in problems_of(write_inventory, text)


# -- drift and changes of a guest ------------------------------------------------

RUNNING = """@state running
@autostart enable
@live_cpus 1
@live_memory 524288
@vcpu 1
@memory 524288
@mac {mac}
@network guests
@disk 4294967296
"""


def probe_output(**changes) -> str:
    text = RUNNING.format(mac=derived_mac("g1"))
    for key, value in changes.items():
        text = "\n".join(f"@{key} {value}" if line.startswith(f"@{key} ") else line for line in text.splitlines())
    return text


def guest(fleet) -> Domain:
    return resources(fleet)["guest g1"]


def test_a_guest_as_declared_is_left_alone(fleet):
    assert guest(fleet).compare(probe_output()) is None


def test_a_missing_guest_is_created(fleet):
    assert guest(fleet).compare("@absent").action == "create"


def test_a_stopped_guest_is_started_and_one_not_autostarted_is_marked(fleet):
    change = guest(fleet).compare(probe_output(state="shut off", autostart="disable"))
    assert change.action == "start autostart"


def test_a_cpu_or_memory_change_goes_to_the_definition_and_is_pending_while_running(fleet):
    resource = guest(fleet)
    old = probe_output(vcpu=2, memory=1048576, live_cpus=2, live_memory=1048576)
    change = resource.compare(old)
    assert change.action == "redefine"
    assert change.summary == "cpus 2 -> 1, memory 1024 -> 512 MiB (at the next restart)"
    after = probe_output(live_cpus=2, live_memory=1048576)
    assert resource.compare(after) is None
    assert "pending a restart (fab -H g1 vmhost.reboot)" in resource.note(after)


def test_another_mac_or_network_is_drift(fleet):
    change = guest(fleet).compare(probe_output(mac="52:54:00:ff:ff:ff", network="default"))
    assert "MAC 52:54:00:ff:ff:ff ->" in change.summary and "network default -> guests" in change.summary


def test_a_disk_smaller_than_declared_grows_live_when_the_guest_runs(fleet):
    resource = guest(fleet)
    change = resource.compare(probe_output(disk=2147483648))
    assert change.action == "grow"
    assert "virsh -q blockresize g1 vda 4294967296B" in resource.fix(change)


def test_a_disk_larger_than_declared_is_never_shrunk(fleet):
    resource = guest(fleet)
    change = resource.compare(probe_output(disk=8589934592))
    assert change.action == "refuse" and "shrinking is refused" in change.summary
    assert resource.fix(change).rstrip().endswith("exit 1")


def test_a_guest_the_inventory_does_not_declare_is_reported_never_destroyed(fleet):
    unknown = resources(fleet)["guests not in the inventory"]
    assert isinstance(unknown, UnknownGuests)
    change = unknown.compare("g1\ng2\nold1\n")
    assert change.action == "report" and change.summary.startswith("old1: not in the inventory; left alone")
    assert "virsh" not in unknown.fix(change)


def test_a_guests_console_is_emptied_before_it_starts_so_its_keys_are_this_boots(fleet):
    resource = guest(fleet)
    script = resource.fix(resource.compare(probe_output(state="shut off")))
    assert script.index(": > /var/log/libvirt/qemu/g1-console.log") < script.index("virsh -q start g1")


def test_a_bridge_network_joins_an_existing_bridge_and_a_missing_one_is_refused(write_inventory):
    text = VM_FLEET.replace("guests: {mode: nat, address: 198.18.100.1/24}", "guests: {mode: bridge, bridge: br0}")
    text = text.replace("198.18.100.11", "198.18.0.111").replace("198.18.100.12", "198.18.0.112")
    inventory = load_inventory(write_fleet(write_inventory, text))
    bridge = resources(inventory)["bridge br0"]
    assert bridge.compare("bridge\n") is None
    refused = bridge.compare("@absent\n")
    assert refused.action == "refuse" and "fleetfab does not make a bridge" in refused.summary
    assert inventory.hosts["g1"].gateway is None  # on the host's own network: reached directly


def test_a_redefinition_keeps_the_domains_uuid(fleet):
    resource = guest(fleet)
    script = resource.fix(resource.compare(probe_output(vcpu=2)))
    assert "uuid=$(virsh -q domuuid g1)" in script
    assert 's|<name>g1</name>|&<uuid>$uuid</uuid>|' in script


def test_guests_without_a_login_key_file_are_refused_before_anything_is_contacted(write_inventory):
    text = VM_FLEET.replace("  identity: id_ed25519\n", "")
    with pytest.raises(InputError) as caught:
        load_inventory(write_fleet(write_inventory, text))
    found = [(p.line, p.field, p.message) for p in caught.value.problems]
    assert (1, "ssh.identity", "guests need it: their first boot accepts the public half of this key") in found
