"""examples/operator run as an operator runs it: copied out of the clone, with only fleetfab's wheel.

The project is copied to a temporary folder, fleetfab installed from a wheel
built from this checkout into a fresh virtualenv (tests/wheel_install.py),
and `fab` runs from the project's folder: its fabfile, fabric.yaml and
inventory/hosts.yml, its own role from the inventory's roles_path. Only the
inventory's SSH key and known_hosts are pointed at the lab's.

The example's bootstrap changes edge1 and worker1 (its edge site, its mesh
of two, the guestbook); ns1 and vmhost1 are only read for their exports.
Both changed machines are converged to the lab's own inventory before and
after, and the guestbook is removed from worker1 at the end through the
lab's console. `--inventory` names the lab inventory (default:
$FLEETFAB_INVENTORY, else inventory/lab.yml).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from fleetfab.inventory import load_inventory
from fleetfab.lab.paths import inventory_path
from tests.faults.conftest import FaultLab
from tests.firstcontact.conftest import pytest_addoption, run  # noqa: F401  (the same --inventory option)
from tests.wheel_install import ROOT, clean_environment, install_from_wheel

EXAMPLE = ROOT / "examples" / "operator"
#: the machines the example's bootstrap changes; it only reads ns1 and vmhost1
TOUCHED = ("edge1", "worker1")
EDGE, APP = TOUCHED
#: what the guestbook leaves on its host, removed after the tests
#: what a run says when another run holds a host's lock (fleetfab/session.py)
LOCK_HELD = "another fleetfab run holds the lock on this host"
GUESTBOOK_LEFT = ("/etc/systemd/system/guestbook.service", "/etc/systemd/system/guestbook-worker.service",
                  "/opt/guestbook", "/etc/guestbook", "/var/lib/guestbook")


def pytest_collection_modifyitems(items):
    for item in items:
        item.add_marker(pytest.mark.operator)


@dataclass
class Project:
    """The operator's project folder, outside the clone, and the virtualenv's programs."""

    folder: Path
    bin: Path

    @property
    def inventory(self) -> Path:
        return self.folder / "inventory" / "hosts.yml"

    def fab(self, *args: str) -> tuple[int, str]:
        """`fab ARGS` from the project's folder, as the operator types it (no FLEETFAB_INVENTORY).

        Run again once if a host's lock was held: the lab's ops host checks drift on its own schedule.
        """
        for attempt in range(2):
            done = subprocess.run([str(self.bin / "fab"), *args], cwd=self.folder, env=clean_environment(),
                                  stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=900)
            output = done.stdout + done.stderr
            if LOCK_HELD not in output:
                break
            time.sleep(5)
        return done.returncode, output

    def report(self, name: str, *args: str) -> tuple[int, str, dict]:
        """`fab ARGS --json FILE`, and the report it wrote."""
        path = self.folder / f"{name}.json"
        path.unlink(missing_ok=True)
        code, output = self.fab(*args, "--json", str(path))
        return code, output, json.loads(path.read_text()) if path.exists() else {}

    def set_release(self, release: str) -> None:
        text = self.inventory.read_text()
        old = next(line for line in text.splitlines() if line.strip().startswith("release:"))
        self.inventory.write_text(text.replace(old, f'{old.split(":")[0]}: "{release}"'))


@pytest.fixture(scope="session")
def lab_inventory_file(pytestconfig) -> Path:
    return inventory_path(pytestconfig.getoption("inventory"))


@pytest.fixture(scope="session")
def project(tmp_path_factory, lab_inventory_file) -> Project:
    """The example copied out of the clone, its SSH key and known hosts the lab's, and fleetfab from the wheel."""
    work = tmp_path_factory.mktemp("operator")
    folder = work / "guestbook-fleet"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    ssh = load_inventory(lab_inventory_file).ssh
    text = (folder / "inventory" / "hosts.yml").read_text()
    for key, path in (("identity", ssh.identity), ("known_hosts", ssh.known_hosts)):
        old = next(line for line in text.splitlines() if line.strip().startswith(f"{key}:"))
        text = text.replace(old, f"{old.split(':')[0]}: {path}")
    (folder / "inventory" / "hosts.yml").write_text(text)
    return Project(folder, install_from_wheel(work / "install"))


@pytest.fixture(scope="session")
def lab(lab_inventory_file, tmp_path_factory):
    """The lab, its two changed machines converged before and after, the guestbook gone at the end."""
    if not shutil.which("docker") or run("docker", "info").returncode != 0:
        pytest.skip("the lab's docker engine does not answer: run ./run lab first")
    lab = FaultLab(lab_inventory_file, tmp_path_factory.mktemp("operator-lab"))
    converge(lab)
    yield lab
    remove_guestbook(lab)
    converge(lab)


def converge(lab: FaultLab) -> None:
    """edge1 and worker1 as the lab's inventory wants them; tried twice, since the ops host's
    scheduled drift check may hold a host's lock longer than a run waits for it."""
    outputs = []
    for attempt in range(2):
        code, done = lab.fab("-H", ",".join(TOUCHED), "bootstrap")
        if code == 0:
            return
        outputs.append(done.output)
        time.sleep(5)
    raise AssertionError("\n---\n".join(outputs))


def remove_guestbook(lab: FaultLab) -> None:
    """What the lab's inventory does not know, taken away at the console: the example's application."""
    lab.sh(APP, "systemctl disable --now guestbook guestbook-worker 2>/dev/null || true; "
                f"rm -rf {' '.join(GUESTBOOK_LEFT)}; systemctl daemon-reload; "
                "userdel guestbook 2>/dev/null || true")
