"""The base role's sshd: only the algorithms ssh-audit passes, no forwarding but to guests, root's keys managed."""

from __future__ import annotations

import paramiko
import pytest

from fleetfab.inventory import load_inventory
from fleetfab.role import RoleContext
from fleetfab.roles.base import SSHD_DROP_IN, Base
from fleetfab.release import Release
from fleetfab.roles.sshd import ROOT_KEYS
from tests.unit.debian_releases import BOOKWORM, TRIXIE
from tests.unit.vmhost_fleet import write_fleet

INVENTORY = """
ssh:
  user: root
  identity: id_ed25519
vars:
  base:
    admins:
      - name: ops
      - name: auditor
        sudo: false
groups:
  vmhosts:
    roles: [base, vmhost]
    vars:
      vmhost:
        emulation: qemu
        capacity: {cpus: 2, memory: 2048}
        networks:
          guests: {mode: nat, address: 198.18.100.1/24}
        images:
          bookworm: {file: images/bookworm.qcow2, kernel: images/vmlinuz, initrd: images/initrd.img}
  ops:
    roles: [controller]
hosts:
  web1: {address: 198.18.0.11, roles: [base]}
  web2:
    address: 198.18.0.12
    roles: [base]
    vars:
      base:
        ssh: {penalty_exempt: [198.18.0.1, 198.18.1.0/24]}
  vmhost1: {address: 198.18.0.51, groups: [vmhosts, ops]}
  guest1:
    address: 198.18.100.11
    roles: [base]
    vm: {host: vmhost1, cpus: 1, memory: 512, disk: 4G}
  db1:
    address: 198.18.0.13
    user: ops
    roles: [base]
    vars:
      base:
        root_keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleKeyForTestsOnly backup@example.com"]
"""

OFFERED = {
    "HostKey": "/etc/ssh/ssh_host_ed25519_key",
    "HostKeyAlgorithms": "ssh-ed25519,ssh-ed25519-cert-v01@openssh.com",
    "KexAlgorithms": "sntrup761x25519-sha512@openssh.com,curve25519-sha256,curve25519-sha256@libssh.org",
    "Ciphers": "chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,aes128-gcm@openssh.com,aes256-ctr,aes192-ctr,aes128-ctr",
    "MACs": "hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,umac-128-etm@openssh.com",
}


@pytest.fixture
def fleet(write_inventory):
    """The inventory, with the operator's login key (ssh.identity) beside it."""
    return load_inventory(write_fleet(write_inventory, INVENTORY))


@pytest.fixture
def login_key(fleet):
    """The public half of the inventory's login key, as `<type> <base64>`."""
    public = paramiko.Ed25519Key.from_private_key_file(str(fleet.ssh.identity))
    return f"{public.get_name()} {public.get_base64()}"


def desired(inventory, host: str, release: Release = BOOKWORM) -> dict:
    ctx = RoleContext(inventory, inventory.hosts[host], "base", release=release)
    return {r.key: r for r in Base().resources(ctx)}


def options(inventory, host: str, release: Release = BOOKWORM) -> dict[str, str]:
    """The drop-in's global options (before any Match block), keyword -> value."""
    found = {}
    for line in desired(inventory, host, release)[f"file {SSHD_DROP_IN}"].content.splitlines():
        if line.startswith("Match "):
            break
        if line.strip() and not line.startswith("#"):
            keyword, value = line.split(None, 1)
            found[keyword] = value
    return found


def match_block(inventory, host: str) -> list[str]:
    lines = desired(inventory, host)[f"file {SSHD_DROP_IN}"].content.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("Match ")]
    return [line.strip() for line in lines[starts[0]:] if line.strip()] if starts else []


def test_sshd_offers_exactly_the_audited_algorithms_and_the_ed25519_host_key_alone(fleet, login_key):
    found = options(fleet, "web1")
    assert {k: found[k] for k in OFFERED} == OFFERED


def test_the_post_quantum_exchange_comes_first_and_paramiko_still_agrees_on_each_kind(fleet, login_key):
    found = options(fleet, "web1")
    kex = found["KexAlgorithms"].split(",")
    assert kex[0].startswith("sntrup761x25519")
    client = paramiko.Transport
    assert set(kex) & set(client._preferred_kex)
    assert set(found["HostKeyAlgorithms"].split(",")) & set(client._preferred_keys)
    assert set(found["Ciphers"].split(",")) & set(client._preferred_ciphers)
    assert set(found["MACs"].split(",")) & set(client._preferred_macs)


@pytest.mark.parametrize("release", [BOOKWORM, TRIXIE], ids=["bookworm", "trixie"])
def test_no_nist_curve_sha1_group_exchange_or_short_tag_is_offered(fleet, login_key, release):
    offered = ",".join(options(fleet, "web1", release)[k] for k in ("HostKeyAlgorithms", "KexAlgorithms", "Ciphers", "MACs"))
    for weak in ("nistp", "ecdsa", "sha1", "group-exchange", "group14", "-64", "cbc", "hmac-sha2-256,", "ssh-rsa"):
        assert weak not in offered + ","


def test_openssh_10_offers_ml_kem_first_then_sntrup761_then_curve25519_for_paramiko(fleet, login_key):
    kex = options(fleet, "web1", TRIXIE)["KexAlgorithms"].split(",")
    assert kex == ["mlkem768x25519-sha256", "sntrup761x25519-sha512", "sntrup761x25519-sha512@openssh.com",
                   "curve25519-sha256", "curve25519-sha256@libssh.org"]
    assert set(kex) & set(paramiko.Transport._preferred_kex)


def test_openssh_9_2_is_offered_no_ml_kem_it_would_refuse(fleet, login_key):
    assert "mlkem" not in options(fleet, "web1", BOOKWORM)["KexAlgorithms"]


def test_a_debian_13_host_without_openssh_yet_renders_for_the_openssh_its_release_ships(fleet, login_key):
    fresh = Release("debian", "13", "trixie", {})
    assert options(fleet, "web1", fresh)["KexAlgorithms"].startswith("mlkem768x25519-sha256,")


def test_openssh_10_exempts_no_address_from_its_penalties_unless_the_inventory_names_some(fleet, login_key):
    content = desired(fleet, "web1", TRIXIE)[f"file {SSHD_DROP_IN}"].content
    assert "PerSourcePenaltyExemptList" not in content and "PerSourcePenalties" not in options(fleet, "web1", TRIXIE)


def test_openssh_10_exempts_exactly_the_addresses_the_inventory_names(fleet, login_key):
    assert options(fleet, "web2", TRIXIE)["PerSourcePenaltyExemptList"] == "198.18.0.1,198.18.1.0/24"


def test_openssh_9_2_gets_no_penalty_keyword_it_does_not_know_even_with_exemptions_set(fleet, login_key):
    content = desired(fleet, "web2", BOOKWORM)[f"file {SSHD_DROP_IN}"].content
    assert "PerSource" not in content


def test_a_penalty_exemption_must_be_an_address_or_a_network(write_inventory):
    from fleetfab.inventory import InventoryError

    text = INVENTORY.replace("ssh: {penalty_exempt: [198.18.0.1, 198.18.1.0/24]}", "ssh: {penalty_exempt: [ops.example.com]}")
    with pytest.raises(InventoryError, match="penalty_exempt"):
        load_inventory(write_fleet(write_inventory, text))


def test_agent_x11_and_tcp_forwarding_are_off_on_a_host_nobody_is_reached_through(fleet, login_key):
    found = options(fleet, "web1")
    assert (found["AllowAgentForwarding"], found["X11Forwarding"], found["AllowTcpForwarding"]) == ("no", "no", "no")
    assert match_block(fleet, "web1") == []


def test_a_gateway_lets_root_sudo_admins_and_the_drift_account_reach_its_guests_ssh_only(fleet, login_key):
    assert options(fleet, "vmhost1")["AllowTcpForwarding"] == "no"
    assert match_block(fleet, "vmhost1") == [
        "Match User fleetfab,ops,root", "AllowTcpForwarding local", "PermitOpen 198.18.100.11:22"]


def test_only_authorized_keys_is_read_not_authorized_keys2(fleet, login_key):
    assert options(fleet, "web1")["AuthorizedKeysFile"] == ".ssh/authorized_keys"


def test_the_drop_in_is_checked_by_sshd_before_a_reload(fleet, login_key):
    sshd = desired(fleet, "web1")[f"file {SSHD_DROP_IN}"]
    assert sshd.validate == "sshd -t -f %s" and "reload sshd" in sshd.notify


def test_where_fleetfab_logs_in_as_root_roots_keys_are_its_own_login_key(fleet, login_key):
    keys = desired(fleet, "web1")[f"file {ROOT_KEYS}"]
    assert keys.content == f"{login_key} fleetfab-login\n"
    assert (keys.owner, keys.mode) == ("root", "0600")


def test_where_fleetfab_logs_in_as_another_account_roots_keys_are_the_inventorys_alone(fleet, login_key):
    keys = desired(fleet, "db1")[f"file {ROOT_KEYS}"].content
    assert keys == "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleKeyForTestsOnly backup@example.com\n"


def test_a_login_key_that_cannot_be_read_leaves_roots_keys_as_they_are(fleet):
    fleet.ssh.identity.write_text("not a key\n")
    blocked = desired(fleet, "web1")[f"file {ROOT_KEYS}"]
    assert blocked.keep == ROOT_KEYS and "root's keys are left as they are" in blocked.why


def test_an_ops_hosts_copy_keeps_the_operators_key_it_was_told(fleet, login_key, tmp_path):
    import yaml

    from fleetfab.inventory import load_inventory
    from fleetfab.roles.controller.copy import ops_inventory

    copied = tmp_path / "copy" / "fleet.yml"
    copied.parent.mkdir()
    copied.write_text(ops_inventory(fleet))
    copy = load_inventory(copied)
    assert desired(copy, "web1")[f"file {ROOT_KEYS}"].content == desired(fleet, "web1")[f"file {ROOT_KEYS}"].content
    assert "login_key" not in (yaml.safe_load(copied.read_text())["hosts"]["db1"]["vars"]["base"])
