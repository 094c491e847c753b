"""A lab fixture for tests that use one or two hosts: no whole-lab convergence first.

The `lab` fixture bootstraps every lab machine before its first test. Tests
of the host lock, the read bounds and the escapes change one file or one
folder on one host and put it back themselves, so they need only the lab's
machines up; `lab_hosts` is the same FaultLab without that first bootstrap.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from fleetfab.lab.paths import inventory_path
from tests.faults.conftest import FaultLab


@pytest.fixture(scope="session")
def lab_hosts(pytestconfig, tmp_path_factory) -> FaultLab:
    chosen = inventory_path(pytestconfig.getoption("inventory"))
    if not shutil.which("docker") or subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        pytest.skip("the lab's docker engine does not answer: run ./run lab first")
    return FaultLab(chosen, tmp_path_factory.mktemp("lab-hosts"))


def background(lab: FaultLab, host: str, command: str) -> str:
    """Start `command` on a lab machine, detached in a process group of its own; the group's id, for `stop`."""
    return lab.sh(host, f"setsid {command} </dev/null >/dev/null 2>&1 & echo $!").strip()


def stop(lab: FaultLab, host: str, group: str) -> None:
    """End the processes `background` started (that group alone, with its children)."""
    lab.sh(host, f"kill -- -{int(group)} 2>/dev/null; true")
