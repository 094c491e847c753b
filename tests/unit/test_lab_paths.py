"""The lab inventory is the one given, else $FLEETFAB_INVENTORY, else the lab's, from the repository root."""

from pathlib import Path

from fleetfab.lab.paths import inventory_path

ROOT = Path("/repo")


def test_default_is_the_lab_inventory(monkeypatch):
    monkeypatch.delenv("FLEETFAB_INVENTORY", raising=False)
    assert inventory_path(root=ROOT) == ROOT / "inventory/lab.yml"


def test_environment_selects_the_inventory(monkeypatch):
    monkeypatch.setenv("FLEETFAB_INVENTORY", "inventory/prod.yml")
    assert inventory_path(root=ROOT) == ROOT / "inventory/prod.yml"


def test_given_path_wins_over_the_environment(monkeypatch):
    monkeypatch.setenv("FLEETFAB_INVENTORY", "inventory/prod.yml")
    assert inventory_path("/etc/fleet.yml", root=ROOT) == Path("/etc/fleet.yml")
