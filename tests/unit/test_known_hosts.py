"""known_hosts files: parsed once per change, looked up per host, the user's own file first."""

from __future__ import annotations

import subprocess

import pytest

from fleetfab import ssh
from fleetfab.inventory.model import SshSettings


def public_key(tmp_path, name: str) -> str:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / name)], check=True)
    kind, blob = (tmp_path / f"{name}.pub").read_text().split()[:2]
    return f"{kind} {blob}"


@pytest.fixture
def files(tmp_path, monkeypatch):
    """The user's own known_hosts and the inventory's, both empty to start with."""
    own, inventory = tmp_path / "own_known_hosts", tmp_path / "inventory_known_hosts"
    own.write_text("")
    inventory.write_text("")
    monkeypatch.setattr(ssh, "SYSTEM_KNOWN_HOSTS", own)
    return own, inventory


def test_an_unchanged_file_is_parsed_once(files):
    _, inventory = files
    assert ssh.parsed_known_hosts(inventory) is ssh.parsed_known_hosts(inventory)


def test_a_changed_file_is_parsed_again(files, tmp_path):
    _, inventory = files
    before = ssh.parsed_known_hosts(inventory)
    inventory.write_text(f"198.18.0.9 {public_key(tmp_path, 'host')}\n")
    assert ssh.parsed_known_hosts(inventory) is not before
    assert ssh.parsed_known_hosts(inventory).lookup("198.18.0.9")


def test_a_host_gets_its_own_keys_and_no_others(files, tmp_path):
    _, inventory = files
    inventory.write_text(f"198.18.0.1 {public_key(tmp_path, 'one')}\n[198.18.0.2]:2222 {public_key(tmp_path, 'two')}\n")
    settings = SshSettings(known_hosts=inventory)
    one, two = ssh.known_keys("198.18.0.1", settings), ssh.known_keys("[198.18.0.2]:2222", settings)
    assert list(one) == ["ssh-ed25519"] and list(two) == ["ssh-ed25519"]
    assert one["ssh-ed25519"] != two["ssh-ed25519"]
    assert ssh.known_keys("198.18.0.2", settings) == {}


def test_the_users_own_file_is_read_before_the_inventorys(files, tmp_path):
    own, inventory = files
    own_key, inventory_key = public_key(tmp_path, "own"), public_key(tmp_path, "inventory")
    own.write_text(f"198.18.0.1 {own_key}\n")
    inventory.write_text(f"198.18.0.1 {inventory_key}\n")
    found = ssh.known_keys("198.18.0.1", SshSettings(known_hosts=inventory))
    assert found["ssh-ed25519"].get_base64() == own_key.split()[1]


def test_a_missing_file_knows_no_host(tmp_path, monkeypatch):
    monkeypatch.setattr(ssh, "SYSTEM_KNOWN_HOSTS", tmp_path / "absent")
    assert ssh.known_keys("198.18.0.1", SshSettings(known_hosts=tmp_path / "also-absent")) == {}


def test_an_unreadable_file_knows_no_host(tmp_path, monkeypatch):
    monkeypatch.setattr(ssh, "SYSTEM_KNOWN_HOSTS", tmp_path)  # a folder: stat works, reading fails
    assert ssh.known_keys("198.18.0.1", SshSettings()) == {}


def test_hashed_names_are_found_and_the_first_line_wins_for_each_key_type(files, tmp_path):
    _, inventory = files
    first, second = public_key(tmp_path, "first"), public_key(tmp_path, "second")
    inventory.write_text(f"198.18.0.1 {first}\n198.18.0.1 {second}\n[198.18.0.2]:2222 {second}\n")
    subprocess.run(["ssh-keygen", "-q", "-H", "-f", str(inventory)], check=True, capture_output=True)
    hashed = inventory.read_text()
    assert "198.18.0.1" not in hashed and "|1|" in hashed  # every name is hashed now
    # comments, blank lines and lines of too few fields are skipped; a plain line after the hashed ones comes second
    inventory.write_text(f"# a comment\n\ntwo fields\n{hashed}198.18.0.1 {second}\n")
    settings = SshSettings(known_hosts=inventory)
    found = ssh.known_keys("198.18.0.1", settings)
    assert found["ssh-ed25519"].get_base64() == first.split()[1]
    assert ssh.known_keys("[198.18.0.2]:2222", settings)["ssh-ed25519"].get_base64() == second.split()[1]
    assert ssh.known_keys("198.18.0.3", settings) == {}


def test_lookups_agree_with_paramikos_own(files, tmp_path):
    import paramiko

    _, inventory = files
    keys = [public_key(tmp_path, f"k{i}") for i in range(3)]
    inventory.write_text(
        f"a,b {keys[0]}\nb {keys[1]}\n[c]:2200 {keys[2]}\nc {keys[1]}\n"
    )
    theirs, ours = paramiko.HostKeys(str(inventory)), ssh.parsed_known_hosts(inventory)
    for name in ("a", "b", "c", "[c]:2200", "d"):
        expected = {k: v.get_base64() for k, v in (theirs.lookup(name) or {}).items()}
        assert {k: v.get_base64() for k, v in ours.lookup(name).items()} == expected
