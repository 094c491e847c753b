"""`fab lab.rebuild`: destroy, up, bootstrap twice, testinfra, faults, security, first contact,
the operator example; each stage timed.

The second bootstrap is the convergence proof: it must change nothing. A
failed stage stops the rebuild, since every later stage depends on it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from fleetfab.lab import lifecycle
from fleetfab.lab.lifecycle import Lab
from fleetfab.lab.proc import LabError


@dataclass(frozen=True)
class StageResult:
    name: str
    seconds: float
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def run_stages(stages: list[tuple[str, Callable[[], None]]], log=print) -> list[StageResult]:
    """Run stages in order until one raises; time each."""
    results = []
    for name, step in stages:
        log(f"==> {name}")
        started = time.monotonic()
        try:
            step()
            results.append(StageResult(name, time.monotonic() - started))
        except Exception as exc:  # a stage's failure is reported, not re-raised
            results.append(StageResult(name, time.monotonic() - started, str(exc) or type(exc).__name__))
            break
    return results


def summary(results: list[StageResult]) -> str:
    lines = [f"{r.name:<22} {r.seconds:7.1f} s  {'ok' if r.ok else 'FAILED: ' + r.error}" for r in results]
    lines.append(f"{'total':<22} {sum(r.seconds for r in results):7.1f} s")
    return "\n".join(lines)


def unchanged_problem(report: dict) -> str | None:
    """Why a second bootstrap's JSON report is not a clean no-op, or None."""
    totals = report.get("totals", {})
    if totals.get("failed"):
        return f"{totals['failed']} failed"
    if totals.get("changed") != 0:
        return f"{totals.get('changed')} changed (a second bootstrap must change nothing)"
    return None


def _checked(cmd: list[str], lab: Lab) -> None:
    env = {**os.environ, "FLEETFAB_INVENTORY": str(lab.inventory_file)}
    code = subprocess.run(cmd, cwd=lab.paths.root, env=env).returncode
    if code != 0:
        raise LabError(f"`{' '.join(cmd)}` exited {code}")


def bootstrap(lab: Lab, json_path: Path | None = None) -> None:
    cmd = [sys.executable, "-m", "fabric", "-H", "nodes", "bootstrap"]
    _checked(cmd + (["--json", str(json_path)] if json_path else []), lab)


def bootstrap_again_unchanged(lab: Lab) -> None:
    report_path = lab.paths.work / "rebuild" / "second-bootstrap.json"
    report_path.parent.mkdir(parents=True, exist_ok=True)
    report_path.unlink(missing_ok=True)
    bootstrap(lab, report_path)
    problem = unchanged_problem(json.loads(report_path.read_text()))
    if problem:
        raise LabError(f"second bootstrap: {problem}; see {report_path}")


def testinfra(lab: Lab) -> None:
    _checked([sys.executable, "-m", "pytest", "tests/infra",
              "--inventory", str(lab.inventory_file), "--ssh-config", str(lab.paths.ssh_config)], lab)


def faults(lab: Lab) -> None:
    """Machines killed, frozen, locked and re-keyed while fab runs (tests/faults)."""
    _checked([sys.executable, "-m", "pytest", "tests/faults", "--inventory", str(lab.inventory_file)], lab)


def security(lab: Lab) -> None:
    """Each attack on the trust boundaries reproduced against the lab (tests/security)."""
    _checked([sys.executable, "-m", "pytest", "tests/security", "--inventory", str(lab.inventory_file)], lab)


def first_contact(lab: Lab) -> None:
    """An operator's own fleet from zero: the wheel installed outside the clone, host keys confirmed,
    root then the admin account, through a jump host, the lockout guard (tests/firstcontact)."""
    _checked([sys.executable, "-m", "pytest", "tests/firstcontact", "--inventory", str(lab.inventory_file)], lab)


def operator_example(lab: Lab) -> None:
    """examples/operator copied out of the clone, run with only the wheel installed: its own role and
    task beside fleetfab's, bootstrapped against the lab, its app answering through the edge (tests/operator)."""
    _checked([sys.executable, "-m", "pytest", "tests/operator", "--inventory", str(lab.inventory_file)], lab)


def rebuild(lab: Lab, mirror: str | None = None, log=print) -> list[StageResult]:
    stages = [
        ("destroy", lambda: lifecycle.destroy(lab)),
        ("up", lambda: lifecycle.up(lab, mirror, log)),
        ("bootstrap", lambda: bootstrap(lab)),
        ("bootstrap (no change)", lambda: bootstrap_again_unchanged(lab)),
        ("testinfra", lambda: testinfra(lab)),
        ("faults", lambda: faults(lab)),
        ("security", lambda: security(lab)),
        ("first contact", lambda: first_contact(lab)),
        ("operator example", lambda: operator_example(lab)),
    ]
    results = run_stages(stages, log)
    log(summary(results))
    return results
