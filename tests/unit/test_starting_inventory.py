"""`fleetfab init`'s starting inventory: valid as it is, with the operator's key on the admin fleetfab switches to."""

from __future__ import annotations

import subprocess

import pytest

from fleetfab.inventory import InputError, load_inventory
from fleetfab.starter import StarterError, write_starter


@pytest.fixture
def identity(tmp_path):
    key = tmp_path / "keys" / "id_ed25519"
    key.parent.mkdir()
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "me@example.com", "-f", str(key)], check=True)
    return key


def test_the_starting_inventory_validates_as_it_is(tmp_path, identity):
    path = tmp_path / "fleet" / "hosts.yml"
    write_starter(path, "alice", str(identity), None)
    inventory = load_inventory(path)
    assert inventory.hosts == {} and inventory.ssh.user == "root"
    assert inventory.ssh.known_hosts == path.parent / "known_hosts"


def test_its_hosts_get_the_base_role_and_the_admin_gets_the_operators_key(tmp_path, identity):
    path = tmp_path / "hosts.yml"
    write_starter(path, "alice", str(identity), "web1=198.51.100.10,db1=198.51.100.11")
    inventory = load_inventory(path)
    assert [(h.name, h.address, h.roles) for h in inventory.hosts.values()] == [
        ("web1", "198.51.100.10", ("base",)), ("db1", "198.51.100.11", ("base",))]
    (admin,) = inventory.hosts["web1"].settings("base")["admins"]
    assert admin["name"] == "alice" and admin["keys"] == [identity.with_suffix(".pub").read_text().strip()]


def test_an_existing_inventory_is_never_overwritten(tmp_path, identity):
    path = tmp_path / "hosts.yml"
    path.write_text("hosts: {}\n")
    with pytest.raises(StarterError, match="never overwrites"):
        write_starter(path, "alice", str(identity), None)
    assert path.read_text() == "hosts: {}\n"


def test_a_missing_public_key_says_how_to_make_one(tmp_path):
    with pytest.raises(StarterError, match="ssh-keygen -t ed25519"):
        write_starter(tmp_path / "hosts.yml", "alice", str(tmp_path / "nokey"), None)


def test_no_inventory_at_the_default_path_says_how_to_name_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FLEETFAB_INVENTORY", raising=False)
    with pytest.raises(InputError) as refused:
        load_inventory()
    (problem,) = refused.value.problems
    assert "FLEETFAB_INVENTORY=PATH or fleetfab --inventory PATH" in problem.message and "fleetfab init" in problem.message
