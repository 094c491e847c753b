"""vmhost.destroy and vmhost.reboot: what they do to a guest, and what they keep."""

from fleetfab.keysource import parse_keys
from fleetfab.roles.vmhost.console import console_keys_script
from fleetfab.roles.vmhost.operations import GuestGone, GuestRestarted

DISK = "/var/lib/libvirt/images/fleetfab/guests/g1.qcow2"
SEED = "/var/lib/libvirt/images/fleetfab/seed/g1.iso"


def test_destroy_keeps_the_disk_by_default():
    gone = GuestGone("g1", DISK, SEED, delete_disk=False)
    change = gone.compare("defined disk")
    assert change.summary == f"stop and undefine g1; its disk {DISK} is kept"
    assert DISK not in gone.fix(change)


def test_destroy_deletes_the_disk_only_when_asked():
    gone = GuestGone("g1", DISK, SEED, delete_disk=True)
    assert f"rm -f {DISK}" in gone.fix(gone.compare("defined disk"))


def test_destroying_a_guest_that_is_gone_changes_nothing():
    assert GuestGone("g1", DISK, SEED, delete_disk=False).compare("absent disk") is None


def test_a_restart_powers_off_and_on_so_a_new_size_takes_effect():
    restart = GuestRestarted("g1", "/var/log/libvirt/qemu/g1-console.log")
    change = restart.compare("running")
    script = restart.fix(change)
    assert change.action == "stop start"
    assert script.index("virsh -q shutdown g1") < script.index(": > /var/log/libvirt/qemu/g1-console.log") < script.index("virsh -q start g1")


def _key(kind: str) -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

    private = ed25519.Ed25519PrivateKey.generate() if kind == "ssh-ed25519" else ec.generate_private_key(ec.SECP256R1())
    return private.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode().split()[1]


def test_keys_are_read_from_the_last_block_on_the_console(tmp_path):
    import subprocess

    old, ecdsa, new = _key("ssh-ed25519"), _key("ecdsa-sha2-nistp256"), _key("ssh-ed25519")
    log = tmp_path / "console.log"
    log.write_text("<14>Dec  2 cloud-init: ec2: ssh-ed25519 AAAAfingerprint\r\n"
                   f"-----BEGIN SSH HOST KEY KEYS-----\r\nssh-ed25519 {old} root@g1\r\n-----END SSH HOST KEY KEYS-----\r\n"
                   f"-----BEGIN SSH HOST KEY KEYS-----\r\necdsa-sha2-nistp256 {ecdsa} root@g1\r\nssh-ed25519 {new} root@g1\r\n"
                   "-----END SSH HOST KEY KEYS-----\r\n")
    out = subprocess.run(["sh", "-c", console_keys_script(str(log))], capture_output=True, text=True, check=True).stdout
    assert parse_keys(out) == {"ecdsa-sha2-nistp256": ecdsa, "ssh-ed25519": new}


def test_a_console_line_whose_key_does_not_decode_is_not_taken():
    """The guest writes its console: only what is a key of its stated type reaches known_hosts."""
    assert parse_keys("ssh-ed25519 AAAAnotakey root@g1\nssh-rsa " + _key("ssh-ed25519") + " root@g1\n") == {}


def test_a_console_before_the_keys_are_printed_tells_none(tmp_path):
    import subprocess

    log = tmp_path / "console.log"
    log.write_text("[    0.000000] Linux version 6.1\r\n-----BEGIN SSH HOST KEY KEYS-----\r\nssh-ed25519 AAAAhalf")
    out = subprocess.run(["sh", "-c", console_keys_script(str(log))], capture_output=True, text=True, check=True).stdout
    assert parse_keys(out) == {}


def test_a_procedure_still_tells_a_restarted_guests_keys(write_inventory):
    from fleetfab.inventory import load_inventory
    from fleetfab.roles.vmhost.operations import Procedure
    from tests.unit.vmhost_fleet import write_fleet

    inventory = load_inventory(write_fleet(write_inventory))
    source = Procedure({}).host_keys(inventory, inventory.hosts["g1"])
    assert source.host == "hv1" and "g1-console.log" in source.script
