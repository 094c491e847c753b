"""An operator's own fleet from zero, as the README's "Your own fleet" tells it, against lab machines.

fleetfab is installed from a wheel built from this checkout into a fresh
virtualenv in a temporary folder (tests/wheel_install.py), and run from
there (`fleetfab --inventory hosts.yml`), never from the clone. The lab
machines used (edge1 as the jump host, worker2 and ns2 behind it) are
converged back to the lab's own inventory at the end, with root's lab key
put back through the lab's console (docker exec) first, as an operator
locked out would. `--inventory` names the lab inventory (default:
$FLEETFAB_INVENTORY, else inventory/lab.yml).
"""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from fleetfab.lab.paths import inventory_path
from tests.faults.conftest import FaultLab
from tests.wheel_install import clean_environment, install_from_wheel

#: the jump host, and the hosts reached through it
JUMP, BEHIND = "edge1", ("worker2", "ns2")
MACHINES = (JUMP, *BEHIND)
#: the admin account fleetfab switches to: the lab's own, so converging back rewrites only its keys
ADMIN = "ops"


def pytest_addoption(parser):
    parser.getgroup("fleetfab").addoption(
        "--inventory", default=None,
        help="lab inventory (default: $FLEETFAB_INVENTORY, else inventory/lab.yml)")


def pytest_collection_modifyitems(items):
    for item in items:
        item.add_marker(pytest.mark.firstcontact)


def run(*args, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=600, **kwargs)


@pytest.fixture(scope="session")
def installed(tmp_path_factory) -> Path:
    """The `fleetfab` command of a fresh virtualenv outside the repository, installed from this checkout's wheel."""
    return install_from_wheel(tmp_path_factory.mktemp("install")) / "fleetfab"


@dataclass
class Operator:
    """The operator's own folder, inventory and `fleetfab`: no clone, no FLEETFAB_INVENTORY."""

    command: Path
    folder: Path

    @property
    def inventory(self) -> Path:
        return self.folder / "hosts.yml"

    def fleetfab(self, *args: str) -> tuple[int, str]:
        done = subprocess.run([str(self.command), "--inventory", "hosts.yml", *args], cwd=self.folder, env=clean_environment(),
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=600)
        return done.returncode, done.stdout + done.stderr

    def edit(self, old: str, new: str) -> None:
        """Change one line of the inventory, as the guide tells the operator to."""
        text = self.inventory.read_text()
        assert text.count(old) == 1, f"{old!r} is not written once in {self.inventory}"
        self.inventory.write_text(text.replace(old, new))

    def change(self, edit) -> None:
        """Change the inventory's data (comments are lost; for settings the guide does not spell out)."""
        document = yaml.safe_load(self.inventory.read_text())
        edit(document)
        self.inventory.write_text(yaml.safe_dump(document, sort_keys=False))


@pytest.fixture(scope="session")
def lab(pytestconfig, tmp_path_factory):
    """The lab, its three machines converged before and after (never the whole lab)."""
    if not shutil.which("docker") or run("docker", "info").returncode != 0:
        pytest.skip("the lab's docker engine does not answer: run ./run lab first")
    lab = FaultLab(inventory_path(pytestconfig.getoption("inventory")), tmp_path_factory.mktemp("firstcontact"))
    converge(lab)
    yield lab
    give_root_its_lab_key_back(lab)
    converge(lab)


def converge(lab: FaultLab) -> None:
    """The three machines as the lab's inventory wants them; tried twice, since another run
    (the ops host's scheduled drift) may hold a host's lock longer than a run waits for it."""
    outputs = []
    for attempt in range(2):
        code, done = lab.fab("-H", ",".join(MACHINES), "bootstrap")
        if code == 0:
            return
        outputs.append(done.output)
        time.sleep(5)
    raise AssertionError("\n---\n".join(outputs))


def give_root_its_lab_key_back(lab: FaultLab) -> None:
    """What a locked-out operator does at the console: put the key back in root's authorized_keys."""
    key = " ".join(Path(f"{lab.inventory.ssh.identity}.pub").read_text().split()[:2])
    for name in MACHINES:
        lab.sh(name, f"mkdir -p -m 700 /root/.ssh; grep -qF '{key}' /root/.ssh/authorized_keys 2>/dev/null "
                     f"|| echo '{key} fleetfab-lab' >> /root/.ssh/authorized_keys")


@pytest.fixture(scope="session")
def operator(installed, tmp_path_factory) -> Operator:
    return Operator(installed, tmp_path_factory.mktemp("my-fleet"))
