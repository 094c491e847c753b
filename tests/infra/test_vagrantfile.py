"""The Vagrantfile reads the inventory through fleetfab, and Vagrant accepts it."""

from __future__ import annotations

import subprocess

import pytest

from fleetfab.lab.paths import LabPaths
from fleetfab.lab.vagrant import environment

PATHS = LabPaths()


def validate(inventory, provider="docker", *options) -> subprocess.CompletedProcess:
    return subprocess.run(["vagrant", "validate", *options], cwd=PATHS.vagrant_dir, capture_output=True, text=True,
                          env=environment(PATHS, inventory, provider), timeout=120)


@pytest.mark.parametrize("provider", ["docker", "libvirt"])
def test_vagrant_validates_the_lab_with_its_provider_settings(inventory, provider):
    result = validate(inventory.path, provider)
    assert result.returncode == 0, result.stderr
    assert "validated successfully" in result.stdout


def test_vagrant_validates_the_lab_for_virtualbox_apart_from_its_provider_block(inventory):
    """VirtualBox cannot be installed here; Vagrant checks its block only where it is."""
    result = validate(inventory.path, "virtualbox", "--ignore-provider")
    assert result.returncode == 0, result.stderr
    assert "validated successfully" in result.stdout


def test_a_broken_inventory_stops_vagrant_with_the_inventory_problem(tmp_path):
    broken = tmp_path / "lab.yml"
    broken.write_text("hosts:\n  a: {address: nope}\n")
    result = validate(broken)
    assert result.returncode != 0
    assert f"{broken}:2: hosts.a.address: expected an IP address" in result.stdout + result.stderr
