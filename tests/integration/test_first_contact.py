"""First contact (`hostkeys.collect`) against real sshd servers: keys shown as ssh-keygen prints
them, written only once confirmed, a host behind a jump host scanned through it."""

from __future__ import annotations

import subprocess

import pytest
import yaml

from fleetfab.cli.hostkeys import collect
from fleetfab.inventory import load_inventory
from fleetfab.ssh import connect

pytestmark = pytest.mark.integration


@pytest.fixture
def first_contact(sshd, tmp_path, monkeypatch):
    """An inventory of alpha and beta (behind alpha) whose known_hosts starts empty."""
    document = {
        "ssh": {"user": "root", "identity": str(sshd["client_key"]), "known_hosts": "known_hosts"},
        "hosts": {"alpha": {"address": "127.0.0.1", "port": sshd["ports"][0]},
                  "beta": {"address": "127.0.0.1", "port": sshd["ports"][1], "jump": "alpha"}},
    }
    path = tmp_path / "hosts.yml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    monkeypatch.setenv("FLEETFAB_INVENTORY", str(path))
    return tmp_path / "known_hosts"


def keygen_fingerprint(sshd) -> str:
    """`ssh-keygen -lf` of the servers' ed25519 host key: bits, SHA256 fingerprint."""
    printed = subprocess.run(["ssh-keygen", "-lf", str(sshd["folder"] / "host_key.pub")], capture_output=True, text=True,
                             check=True).stdout.split()
    return printed[1]


def test_the_keys_are_shown_as_ssh_keygen_prints_them_and_nothing_is_written_unconfirmed(first_contact, sshd, capsys):
    assert collect("alpha", interactive=False) == 1
    shown = capsys.readouterr().out
    assert f"256 {keygen_fingerprint(sshd)} [127.0.0.1]:{sshd['ports'][0]} (ED25519)" in shown
    assert "not confirmed, nothing written" in shown
    assert not first_contact.exists()


def test_a_no_at_the_prompt_writes_nothing(first_contact):
    assert collect("alpha", ask=lambda prompt: "n", interactive=True) == 1
    assert not first_contact.exists()


def test_confirmed_keys_are_written_jump_host_first_and_then_verify_the_hosts(first_contact, sshd):
    fingerprint = keygen_fingerprint(sshd)
    assert collect("beta,alpha", accept=fingerprint) == 0
    names = [line.split()[0] for line in first_contact.read_text().splitlines()]
    assert names == [f"[127.0.0.1]:{sshd['ports'][0]}", f"[127.0.0.1]:{sshd['ports'][1]}"]
    inventory = load_inventory()
    with connect(inventory.hosts["beta"], inventory.ssh) as connection:
        assert connection.gateway.host.name == "alpha"
    assert collect("alpha,beta", interactive=False) == 0, "keys already recorded need no confirmation"


def test_a_fingerprint_no_host_offered_is_named_and_writes_nothing(first_contact, capsys):
    assert collect("alpha", accept="SHA256:" + "A" * 43) == 1
    assert "is not a key of the selected hosts" in capsys.readouterr().err
    assert not first_contact.exists()


def test_a_changed_key_is_reported_and_never_written(first_contact, sshd, tmp_path, capsys):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "old_key")], check=True)
    other = " ".join((tmp_path / "old_key.pub").read_text().split()[:2])
    first_contact.write_text(f"[127.0.0.1]:{sshd['ports'][0]} {other}\n")
    assert collect("alpha", accept=keygen_fingerprint(sshd)) == 1
    assert "is not the one recorded" in capsys.readouterr().out
    assert first_contact.read_text() == f"[127.0.0.1]:{sshd['ports'][0]} {other}\n"
