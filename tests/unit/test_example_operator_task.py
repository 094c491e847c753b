"""The example operator's own task (examples/operator/fabfile.py): listed beside fleetfab's, and its step.

`guestbook.restart` is one engine run per host through fleetfab.procedure;
its step restarts both units and then waits for /ping on the address the
application was given. The lab runs it for real (tests/operator).
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "operator"


@pytest.fixture
def fabfile():
    """The example's fabfile as a module; the collection it adds to fleetfab's tasks taken away again."""
    from fleetfab.tasks import ns

    spec = importlib.util.spec_from_file_location("example_operator_fabfile", EXAMPLE / "fabfile.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up there
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(spec.name, None)
        ns.collections.pop("guestbook", None)


def test_fab_lists_the_operators_task_beside_fleetfabs_own(tmp_path):
    fab = Path(sys.executable).with_name("fab")
    done = subprocess.run([str(fab), "--list"], cwd=EXAMPLE, capture_output=True, text=True, timeout=120,
                          env={"PATH": str(fab.parent), "HOME": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    names = {line.split()[0] for line in done.stdout.splitlines()[1:] if line.strip()}
    assert {"guestbook.restart", "bootstrap", "drift.status", "wireguard.rotate"} <= names


def test_a_restart_always_has_work_and_says_what_the_units_were(fabfile):
    change = fabfile.Restarted().compare("active\nfailed\n")
    assert change.summary == "restart (guestbook active, guestbook-worker failed), then wait for /ping"


def test_the_restart_waits_for_ping_after_restarting_both_units(fabfile):
    restarted = fabfile.Restarted()
    first, second, wait = restarted.fix(restarted.compare("active\nactive\n")).split("\n", 2)
    assert [first, second] == ["set -e", "systemctl restart guestbook guestbook-worker"]
    assert wait.startswith("/opt/guestbook/venv/bin/python -c ") and "/ping" in wait


def test_the_restarting_role_states_the_restart_alone(fabfile):
    assert [r.key for r in fabfile.Restarting().resources(None)] == ["restart guestbook guestbook-worker"]
