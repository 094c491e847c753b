"""Each tool's command for each measurement, and how to tell that it did right.

Every measurement is the wall time of the tool's own process, from start to
exit, as an operator or a scheduler would see it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.peers.setup import DEPLOY, PLAYBOOK, close_control_masters, peers_env, venv_bin

REPO = Path(__file__).resolve().parent.parent
APPLY, REAPPLY, CHECK = "first apply", "no-change re-apply", "read-only check"


@dataclass
class Files:
    """The generated files of one variant (direct or through the proxy)."""

    folder: Path
    key: Path
    venv: Path
    project_python: Path

    @property
    def known_hosts(self) -> Path:
        return self.folder / "known_hosts"

    @property
    def fleetfab_inventory(self) -> Path:
        return self.folder / "fleetfab.yml"

    @property
    def pyinfra_inventory(self) -> Path:
        return self.folder / "pyinfra_inventory.py"

    @property
    def ansible_inventory(self) -> Path:
        return self.folder / "ansible_inventory.yml"

    @property
    def ansible_cfg(self) -> Path:
        return self.folder / "ansible.cfg"

    @property
    def workload(self) -> Path:
        return self.folder / "workload.json"

    @property
    def endpoints(self) -> Path:
        return self.folder / "endpoints.json"

    @property
    def reports(self) -> Path:
        return self.folder / "reports"

    @property
    def logs(self) -> Path:
        return self.folder / "logs"


@dataclass
class Outcome:
    seconds: float
    ok: bool
    detail: str = ""
    log: str = ""
    extra: dict = field(default_factory=dict)


def timed(command: list[str], log: Path, env: dict | None = None, cwd: Path | None = None, timeout: float = 1800) -> tuple[float, int, str]:
    log.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with log.open("w") as out:
        try:
            code = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd, timeout=timeout).returncode
        except subprocess.TimeoutExpired:
            code = -1
    elapsed = time.perf_counter() - started
    return elapsed, code, log.read_text(errors="replace")


def project_env() -> dict:
    return {**os.environ, "PYTHONPATH": str(REPO), "PYTHONDONTWRITEBYTECODE": "1"}


# -- fleetfab ----------------------------------------------------------------------


def fleetfab(files: Files, measurement: str, tag: str) -> Outcome:
    mode = "drift" if measurement == CHECK else "apply"
    report = files.reports / f"fleetfab-{tag}.json"
    command = [str(files.project_python), "-m", "bench.fleetfab_run", mode, str(files.fleetfab_inventory), "--json", str(report)]
    seconds, code, output = timed(command, files.logs / f"fleetfab-{tag}.log", env=project_env(), cwd=REPO)
    try:
        document = json.loads(report.read_text())
    except (OSError, ValueError):
        return Outcome(seconds, False, f"exit {code}, no JSON report", output)
    totals = document["totals"]
    ok = code == 0 and totals["hosts_failed"] == 0 and (measurement == APPLY or totals["changed"] == 0)
    detail = f"exit {code}, changed {totals['changed']}, unchanged {totals['unchanged']}, failed hosts {totals['hosts_failed']}"
    return Outcome(seconds, ok, detail, output, {"report": document})


# -- pyinfra -----------------------------------------------------------------------


def pyinfra(files: Files, measurement: str, tag: str, parallel: int) -> Outcome:
    command = [str(venv_bin(files.venv, "pyinfra")), str(files.pyinfra_inventory), str(DEPLOY), "--parallel", str(parallel)]
    command += ["--dry"] if measurement == CHECK else ["-y"]
    env = {**peers_env(), "BENCH_WORKLOAD": str(files.workload), "PYTHONDONTWRITEBYTECODE": "1"}
    seconds, code, output = timed(command, files.logs / f"pyinfra-{tag}.log", env=env, cwd=files.folder)
    changes = pyinfra_changes(output)
    ok = code == 0 and (measurement == APPLY or changes == 0)
    return Outcome(seconds, ok, f"exit {code}, changes {changes}", output)


def pyinfra_changes(output: str) -> int | None:
    """Changes pyinfra made (its Results table) or would make (--dry: Detected changes).

    In the dry-run table, the second column counts unconditional changes; the
    third counts operations that run only if an earlier one changed.
    """
    if "--> Results:" in output:
        table = output.split("--> Results:", 1)[1]
        rows = re.findall(r"^ {4}(.+?)\s{2,}(\d+|-)\s+(\d+|-)\s+(\d+|-)\s+(\d+|-)\s*$", table, re.M)
        return sum(int(r[2]) for r in rows if r[2] != "-") if rows else None
    if "--> Detected changes:" in output:
        table = output.split("--> Detected changes:", 1)[1].split("\n\n", 1)[0]
        rows = re.findall(r"^ {4}(.+?)\s{2,}(\S.*?)\s{2,}(\S.*?)\s*$", table, re.M)
        return sum(1 for r in rows[1:] if r[1] != "-")
    return None


# -- Ansible -----------------------------------------------------------------------


def ansible(files: Files, measurement: str, tag: str) -> Outcome:
    control = files.folder / "ansible-cp"
    shutil.rmtree(control, ignore_errors=True)
    control.mkdir(parents=True)
    command = [str(venv_bin(files.venv, "ansible-playbook")), str(PLAYBOOK)]
    if measurement == CHECK:
        command.append("--check")
    env = {
        **peers_env(),
        "ANSIBLE_CONFIG": str(files.ansible_cfg),
        "ANSIBLE_HOME": str(files.folder / "ansible-home"),
        "ANSIBLE_SSH_CONTROL_PATH_DIR": str(control),
        "ANSIBLE_NOCOLOR": "1",
        "BENCH_WORKLOAD": str(files.workload),
    }
    try:
        seconds, code, output = timed(command, files.logs / f"ansible-{tag}.log", env=env, cwd=files.folder)
    finally:
        close_control_masters(control)
    changed = ansible_changed(output)
    ok = code == 0 and changed is not None and (measurement == APPLY or changed == 0)
    return Outcome(seconds, ok, f"exit {code}, changed tasks {changed}", output)


def ansible_changed(output: str) -> int | None:
    counts = [int(c) for c in re.findall(r"^\S+\s*:\s*ok=\d+\s+changed=(\d+)", output, re.M)]
    return sum(counts) if counts else None


# -- the floor ---------------------------------------------------------------------


def floor(files: Files, tag: str) -> Outcome:
    command = [str(files.project_python), "-m", "bench.floor", str(files.endpoints), str(files.key), str(files.known_hosts)]
    seconds, code, output = timed(command, files.logs / f"floor-{tag}.log", env=project_env(), cwd=REPO)
    return Outcome(seconds, code == 0, f"exit {code}", output)


def run(tool: str, files: Files, measurement: str, tag: str, parallel: int) -> Outcome:
    if tool == "fleetfab":
        return fleetfab(files, measurement, tag)
    if tool == "pyinfra":
        return pyinfra(files, measurement, tag, parallel)
    if tool == "ansible":
        return ansible(files, measurement, tag)
    raise ValueError(tool)


def python_of_project() -> Path:
    venv = REPO / ".venv" / "bin" / "python"
    return venv if venv.exists() else Path(sys.executable)
