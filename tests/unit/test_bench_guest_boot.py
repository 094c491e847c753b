"""The guest boot check reads the host keys off the console as a hypervisor would."""

import yaml

from bench import guest_boot

CONSOLE = (
    "[   96.08] cloud-init[430]: Cloud-init v. 22.4.2 running 'modules:final'\r\n"
    "<14>Dec  2 01:32:13 cloud-init: -----BEGIN SSH HOST KEY FINGERPRINTS-----\r\n"
    "<14>Dec  2 01:32:14 cloud-init: 256 SHA256:sgjN root@guest-boot (ED25519)\r\n"
    "<14>Dec  2 01:32:14 cloud-init: -----END SSH HOST KEY FINGERPRINTS-----\r\n"
    "-----BEGIN SSH HOST KEY KEYS-----\r\n"
    "ecdsa-sha2-nistp256 AAAAE2VjZHNh root@guest-boot\r\n"
    "ssh-ed25519 AAAAC3NzaC1lZDI1 root@guest-boot\r\n"
    "-----END SSH HOST KEY KEYS-----\r\n"
    "ssh-ed25519 AAAAnotinablock after@end\r\n"
)


def test_the_keys_block_gives_every_host_key_and_nothing_outside_it():
    assert guest_boot.console_keys(CONSOLE) == [
        ("ecdsa-sha2-nistp256", "AAAAE2VjZHNh"), ("ssh-ed25519", "AAAAC3NzaC1lZDI1")]


def test_a_console_without_the_keys_block_gives_no_keys():
    assert guest_boot.console_keys(CONSOLE.split("-----BEGIN SSH HOST KEY KEYS")[0]) == []


def test_the_presented_key_is_read_from_the_known_hosts_ssh_wrote(tmp_path):
    known = tmp_path / "known_hosts"
    known.write_text("[127.0.0.1]:40022 ssh-ed25519 AAAAC3NzaC1lZDI1\n")
    assert guest_boot.presented_keys(known) == [("ssh-ed25519", "AAAAC3NzaC1lZDI1")]


def test_the_seed_matches_the_nic_by_mac_with_a_static_address_cloud_init_22_4_accepts(tmp_path):
    guest_boot.seed_files(tmp_path, "ssh-ed25519 AAAA k", "i-1")
    [nic] = yaml.safe_load((tmp_path / "network-config").read_text())["ethernets"].values()
    assert nic["match"] == {"macaddress": guest_boot.MAC}
    assert nic["addresses"] == [f"{guest_boot.ADDRESS}/24"]
    assert nic["routes"] == [{"to": "0.0.0.0/0", "via": guest_boot.GATEWAY}]


def test_the_guests_ssh_port_is_forwarded_to_loopback_only_and_its_network_reaches_nothing(tmp_path):
    image = guest_boot.guestimage.GuestImage(tmp_path / "d", tmp_path / "k", tmp_path / "i", "h")
    cmd = guest_boot.qemu_command(image, tmp_path / "o", tmp_path / "s", tmp_path / "c", tmp_path / "a", 40022, 512)
    netdev = cmd[cmd.index("-netdev") + 1]
    assert "restrict=on" in netdev.split(",")
    assert f"hostfwd=tcp:127.0.0.1:40022-{guest_boot.ADDRESS}:22" in netdev.split(",")
    assert cmd[cmd.index("-accel") + 1] == "tcg"
