"""Faults in the lab: machines killed, frozen, locked or re-keyed while fleetfab runs.

These tests break lab machines on purpose, through the lab's own Docker
engine, and run `fab` as an operator would (a process of its own, its JSON
report read afterwards). Each test leaves the lab converged again.
`--inventory` names the lab inventory (default: $FLEETFAB_INVENTORY, else
inventory/lab.yml); the lab must be up and bootstrapped.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

from fleetfab.inventory import load_inventory
from fleetfab.lab.paths import LabPaths, inventory_path
from fleetfab.memory import memory_path

#: every lab host's base role installs it: removing it gives a bootstrap real apt work
WORK_PACKAGE = "vim-tiny"
#: how long any one fab run in these tests may take
RUN_LIMIT = 400


def pytest_addoption(parser):
    parser.getgroup("fleetfab").addoption(
        "--inventory", default=None,
        help="lab inventory (default: $FLEETFAB_INVENTORY, else inventory/lab.yml)")


def pytest_collection_modifyitems(items):
    for item in items:
        item.add_marker(pytest.mark.faults)


class Run:
    """A `fab` process, its output collected line by line as it comes."""

    def __init__(self, args: list[str], env: dict, cwd: Path, report: Path | None):
        self.report = report
        self.lines: list[str] = []
        self._new_line = threading.Condition()
        self.process = subprocess.Popen([sys.executable, "-m", "fabric", *args, *(["--json", str(report)] if report else [])], cwd=cwd, env=env,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            with self._new_line:
                self.lines.append(line.rstrip("\n"))
                self._new_line.notify_all()
        with self._new_line:
            self._new_line.notify_all()

    def wait_for(self, text: str, timeout: float = 120) -> str:
        """The first output line containing `text`; fails if the run ends or time runs out first."""
        deadline = time.monotonic() + timeout
        with self._new_line:
            while True:
                found = next((line for line in self.lines if text in line), None)
                if found is not None:
                    return found
                if self.process.poll() is not None and not self._reader.is_alive():
                    raise AssertionError(f"fab ended before printing {text!r}:\n{self.output}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no line with {text!r} within {timeout} s:\n{self.output}")
                self._new_line.wait(min(left, 1.0))

    def finish(self) -> int:
        code = self.process.wait(timeout=RUN_LIMIT)
        self._reader.join(timeout=10)
        return code

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def document(self) -> dict:
        return json.loads(self.report.read_text())


class FaultLab:
    """The lab under test: its inventory, its machines' containers, and fab."""

    def __init__(self, inventory_file: Path, tmp: Path):
        self.inventory_file = inventory_file
        self.inventory = load_inventory(inventory_file)
        self.paths = LabPaths()
        self.tmp = tmp
        self._runs = 0

    # -- machines --------------------------------------------------------------

    def container(self, name: str) -> str:
        return (self.paths.vagrant_dir / ".vagrant" / "machines" / name / "docker" / "id").read_text().strip()

    def docker(self, *args: str) -> str:
        return subprocess.run(["docker", *args], check=True, capture_output=True, text=True, timeout=120).stdout

    def sh(self, name: str, script: str) -> str:
        return self.docker("exec", self.container(name), "sh", "-c", script)

    def give_work(self, *names: str) -> None:
        """Remove a package the inventory wants, so a bootstrap has apt work to do there."""
        for name in names:
            self.sh(name, f"DEBIAN_FRONTEND=noninteractive apt-get remove -y -q {WORK_PACKAGE} >/dev/null")

    def wait_for_ssh(self, name: str, timeout: float = 90) -> None:
        address = self.inventory.hosts[name].address
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            probe = subprocess.run(["ssh", "-F", str(self.paths.ssh_config), "-o", "BatchMode=yes", "-o", "ConnectTimeout=3",
                                    name, "systemctl is-active ssh"], capture_output=True, text=True)
            if probe.returncode == 0:
                return
            time.sleep(1)
        raise AssertionError(f"{name} ({address}) did not answer SSH within {timeout} s")

    # -- fab -----------------------------------------------------------------------

    def start(self, *args: str, inventory: Path | None = None, report: bool = True) -> Run:
        """`fab` with `args`, writing its JSON report unless the task has none (`report=False`)."""
        self._runs += 1
        env = {**os.environ, "FLEETFAB_INVENTORY": str(inventory or self.inventory_file)}
        return Run(list(args), env, self.paths.root, self.tmp / f"run-{self._runs}.json" if report else None)

    def fab(self, *args: str, inventory: Path | None = None, report: bool = True) -> tuple[int, Run]:
        run = self.start(*args, inventory=inventory, report=report)
        return run.finish(), run

    def converge(self) -> None:
        """Bootstrap the whole lab until it is clean: the state every test starts and ends in."""
        code, run = self.fab("-H", "nodes", "bootstrap")
        assert code == 0, run.output

    # -- inventories ---------------------------------------------------------------

    def inventory_copy(self, name: str, change=None, **ssh) -> Path:
        """The lab inventory with some ssh settings changed (or `change(document)`), and the controller's memory with it."""
        document = yaml.safe_load(self.inventory_file.read_text())
        if change is not None:
            change(document)
        base = self.inventory_file.parent
        for key in ("identity", "known_hosts"):
            if key in document.get("ssh", {}):
                document["ssh"][key] = str((base / document["ssh"][key]).resolve())
        document.setdefault("ssh", {}).update(ssh)
        target = self.tmp / name / self.inventory_file.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(yaml.safe_dump(document, sort_keys=False))
        memory = memory_path(self.inventory_file)
        if memory.exists():
            memory_path(target).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(memory, memory_path(target))
        return target


@pytest.fixture(scope="session")
def lab(pytestconfig, tmp_path_factory) -> FaultLab:
    chosen = inventory_path(pytestconfig.getoption("inventory"))
    if not shutil.which("docker") or subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        pytest.skip("the lab's docker engine does not answer: run ./run lab first")
    lab = FaultLab(chosen, tmp_path_factory.mktemp("faults"))
    lab.converge()
    return lab


def failed_hosts(document: dict) -> set[str]:
    return {name for name, host in document["hosts"].items() if host["status"] == "failed"}


def reason(host: dict) -> str:
    """A host's error, or its failed change's."""
    return host["error"] or next((c["error"] for c in host["changes"] if c["status"] == "failed"), "")
