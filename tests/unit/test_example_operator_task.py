"""The example operator's own task, `guestbook.restart` (examples/operator/fabfile.py), and its step
beside the role (roles/guestbook/restart.py).

The task runs the step one host at a time through fleetfab.procedure: both
units restarted, then /ping awaited on the address the application was
given. The lab runs it for real (tests/operator).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from fleetfab.inventory import load_inventory

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "operator"


@pytest.fixture(scope="module")
def restarting():
    """The step's role, as the task gets it: from the role the example's inventory found."""
    return load_inventory(EXAMPLE / "inventory" / "hosts.yml").roles["guestbook"].restarting()


def test_fab_lists_the_operators_task_beside_fleetfabs_own(tmp_path):
    fab = Path(sys.executable).with_name("fab")
    done = subprocess.run([str(fab), "--list"], cwd=EXAMPLE, capture_output=True, text=True, timeout=120,
                          env={"PATH": str(fab.parent), "HOME": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    names = {line.split()[0] for line in done.stdout.splitlines()[1:] if line.strip()}
    assert {"guestbook.restart", "bootstrap", "drift.status", "wireguard.rotate"} <= names


def test_the_restarting_role_states_the_restart_alone(restarting):
    assert restarting.name == "guestbook"
    assert [r.key for r in restarting.resources(None)] == ["restart guestbook guestbook-worker"]
    assert restarting.handlers(None) == {}


def test_a_restart_always_has_work_and_says_what_the_units_were(restarting):
    [restarted] = restarting.resources(None)
    change = restarted.compare("active\nfailed\n")
    assert change.summary == "restart (guestbook active, guestbook-worker failed), then wait for /ping"


def test_the_restart_waits_for_ping_after_restarting_both_units(restarting):
    [restarted] = restarting.resources(None)
    first, second, wait = restarted.fix(restarted.compare("active\nactive\n")).split("\n", 2)
    assert [first, second] == ["set -e", "systemctl restart guestbook guestbook-worker"]
    assert wait.startswith("/opt/guestbook/venv/bin/python -c ") and "/ping" in wait
