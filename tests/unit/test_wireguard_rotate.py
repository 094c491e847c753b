"""Rotation: a new key on the named members only, and nothing but the mesh converged."""

from __future__ import annotations

from fleetfab.roles.wireguard.keys import NewPrivateKey
from fleetfab.role import Idle
from fleetfab.roles.wireguard.rotate import rotation_roles
from tests.unit.wireguard_fleet import context, write_and_load

INVENTORY = """
    groups:
      mesh:
        roles: [base, wireguard]
        vars:
          wireguard: {network: 100.64.0.0/24}
    hosts:
      alpha: {address: 198.18.0.11, groups: [mesh]}
      bravo: {address: 198.18.0.12, groups: [mesh]}
"""


def prepared(roles, inventory, host):
    return list(roles["wireguard"].prepare(context(inventory, host)))


def test_only_the_rotating_host_gets_a_new_key(tmp_path):
    inventory = write_and_load(tmp_path, INVENTORY)
    roles = rotation_roles(inventory, frozenset({"alpha"}))
    assert isinstance(prepared(roles, inventory, "alpha")[-1], NewPrivateKey)
    assert not any(isinstance(r, NewPrivateKey) for r in prepared(roles, inventory, "bravo"))


def test_the_new_key_comes_after_the_usual_preparation(tmp_path):
    """A member that never had a key gets one, then the rotation replaces it: harmless."""
    inventory = write_and_load(tmp_path, INVENTORY)
    keys = [type(r).__name__ for r in prepared(rotation_roles(inventory, frozenset({"alpha"})), inventory, "alpha")]
    assert keys[-2:] == ["PrivateKey", "NewPrivateKey"]


def test_every_other_role_stands_idle_during_a_rotation(tmp_path):
    inventory = write_and_load(tmp_path, INVENTORY)
    base = rotation_roles(inventory, frozenset({"alpha"}))["base"]
    assert isinstance(base, Idle) and base.name == "base"
    assert list(base.resources(context(inventory, "alpha"))) == []


def test_a_rotation_says_what_changed_with_the_new_public_key():
    from fleetfab.exports import ExportBook
    from fleetfab.redact import Redactor
    from fleetfab.roles.wireguard.rotate import rotated_lines

    book = ExportBook(Redactor())
    new = "4dTqyH1MxGv0p0kJ2h2m3XQm9eW5c3YpXyq0kq9oQ3A="
    book.put("alpha", "wireguard", "public_key", new)
    [line] = rotated_lines(book, ["alpha"], 3)
    assert line.startswith(f"alpha: new WireGuard key pair; its public key is now {new}")
    assert "missing" not in line and "unexpected" not in line


def test_a_rotation_whose_new_key_was_not_read_does_not_claim_one():
    from fleetfab.exports import ExportBook
    from fleetfab.redact import Redactor
    from fleetfab.roles.wireguard.rotate import rotated_lines

    [line] = rotated_lines(ExportBook(Redactor()), ["alpha"], 3)
    assert line == "alpha: its new public key could not be read in this run; `fab -H alpha drift` shows it"
