"""`fab` from the command line: bad input is refused with clear words, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FAB = Path(sys.executable).with_name("fab")


def fab(*args, inventory) -> subprocess.CompletedProcess:
    env = {**os.environ, "FLEETFAB_INVENTORY": str(inventory)}
    return subprocess.run([str(FAB), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


BROKEN = """
hosts:
  a: {address: 198.18.0.300, roles: [nope]}
"""


def test_invalid_inventory_exits_1_listing_every_problem(write_inventory):
    path = write_inventory(BROKEN)
    result = fab("bootstrap", inventory=path)
    assert result.returncode == 1
    assert f"{path}:2: hosts.a.address: expected an IP address" in result.stderr
    assert f"{path}:2: hosts.a.roles[0]: unknown role 'nope'" in result.stderr
    assert "nothing was contacted" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_drift_on_an_invalid_inventory_exits_1(write_inventory):
    assert fab("drift", inventory=write_inventory(BROKEN)).returncode == 1


def test_unknown_host_name_exits_1_before_connecting(write_inventory):
    path = write_inventory("hosts:\n  a: {address: 198.18.0.1}\n")
    result = fab("-H", "a,ghost", "drift", inventory=path)
    assert result.returncode == 1
    assert "-H: ghost: neither a host nor a group" in result.stderr
    assert "connecting" not in result.stdout


def test_inventory_task_lists_hosts_with_groups_and_roles(write_inventory):
    path = write_inventory("""
groups:
  web: {roles: [base]}
hosts:
  web1: {address: 198.18.0.11, groups: [web]}
""")
    result = fab("inventory", inventory=path)
    assert result.returncode == 0, result.stderr
    assert "web1" in result.stdout and "198.18.0.11" in result.stdout and "base" in result.stdout


def test_missing_default_inventory_says_how_to_choose_one(tmp_path):
    result = fab("inventory", inventory=tmp_path / "nothing.yml")
    assert result.returncode == 1 and "cannot read inventory" in result.stderr

