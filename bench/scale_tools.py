"""Each tool's command at one N, measured, and how many hosts it failed on."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from bench.measure import Usage, run_measured, run_together
from bench.peers.setup import HERE as PEERS, peers_env, venv_bin
from bench.scale_inventory import ScaleFiles
from bench.scale_stats import APPLY, DRIFT, FLOOR
from bench.tools import REPO, project_env, pyinfra_changes

SCALE_DEPLOY = PEERS / "scale_deploy.py"


@dataclass(frozen=True)
class Outcome:
    usage: Usage
    failed_hosts: int
    ok: bool
    detail: str


def fleetfab(files: ScaleFiles, python: Path, measurement: str, tag: str, hosts: int, processes: int = 1,
             timeout: float = 1800) -> Outcome:
    """`bench.fleetfab_run` (the `fab` tasks' engine path), in `processes` processes with a share of hosts each."""
    mode = "drift" if measurement == DRIFT else "apply"
    reports = [files.reports / f"fleetfab-{tag}-{i + 1}.json" for i in range(processes)]
    commands = [
        [str(python), "-m", "bench.fleetfab_run", mode, str(files.fleetfab_inventory(i, processes)),
         "--json", str(report), "--workload", "scale"]
        for i, report in enumerate(reports)
    ]
    for report in reports:
        report.unlink(missing_ok=True)
    logs = [files.logs / f"fleetfab-{tag}-{i + 1}.log" for i in range(processes)]
    usage = run_together(commands, logs, env=project_env(), cwd=REPO, timeout=timeout)
    return judge_fleetfab(usage, [read_report(r) for r in reports], measurement, hosts)


def read_report(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def judge_fleetfab(usage: Usage, documents: list[dict | None], measurement: str, hosts: int) -> Outcome:
    """Right only if every host was reported, none failed, and nothing changed but on a first apply."""
    if any(d is None for d in documents):
        return Outcome(usage, hosts, False, f"exit {usage.exit_code}, no JSON report" + (" (timed out)" if usage.timed_out else ""))
    totals = {k: sum(d["totals"][k] for d in documents) for k in ("hosts", "hosts_failed", "changed", "unchanged")}
    failed = totals["hosts_failed"] + (hosts - totals["hosts"])
    ok = usage.exit_code == 0 and failed == 0 and (measurement == APPLY or totals["changed"] == 0)
    errors = sorted({h["error"] for d in documents for h in d["hosts"].values() if h.get("error")})
    detail = f"exit {usage.exit_code}, changed {totals['changed']}, unchanged {totals['unchanged']}, failed hosts {failed}"
    if errors:
        detail += "; errors: " + " | ".join(errors[:3])
    return Outcome(usage, failed, ok, detail)


def floor(files: ScaleFiles, python: Path, key: Path, tag: str, hosts: int, timeout: float = 1800) -> Outcome:
    command = [str(python), "-m", "bench.floor", str(files.endpoints), str(key), str(files.known_hosts)]
    log = files.logs / f"floor-{tag}.log"
    usage = run_measured(command, log, env=project_env(), cwd=REPO, timeout=timeout)
    failed = floor_failed(log.read_text(errors="replace"))
    failed = hosts if failed is None else failed
    return Outcome(usage, failed, usage.exit_code == 0 and failed == 0, f"exit {usage.exit_code}, failed hosts {failed}")


def floor_failed(output: str) -> int | None:
    """From the floor's last line, `floor: hosts=<n> failed=<k>`."""
    found = re.findall(r"^floor: hosts=\d+ failed=(\d+)$", output, re.M)
    return int(found[-1]) if found else None


def pyinfra(files: ScaleFiles, venv: Path, scratch: Path, measurement: str, tag: str, hosts: int, parallel: int,
            timeout: float = 1800) -> Outcome:
    command = [str(venv_bin(venv, "pyinfra")), str(files.pyinfra_inventory), str(SCALE_DEPLOY), "--parallel", str(parallel)]
    command += ["--dry"] if measurement == DRIFT else ["-y"]
    env = {**peers_env(), "SCALE_SCRATCH": str(scratch), "PYTHONDONTWRITEBYTECODE": "1"}
    log = files.logs / f"pyinfra-{tag}.log"
    usage = run_measured(command, log, env=env, cwd=files.folder, timeout=timeout)
    output = log.read_text(errors="replace")
    changes = pyinfra_changes(output)
    failed = pyinfra_failed(output, hosts, usage.exit_code)
    ok = usage.exit_code == 0 and failed == 0 and (measurement == APPLY or changes == 0)
    return Outcome(usage, failed, ok, f"exit {usage.exit_code}, changes {changes}, failed hosts {failed}")


def pyinfra_failed(output: str, hosts: int, exit_code: int) -> int:
    """Hosts pyinfra named as failed (`[host] Error`, or a host's greenlet `failed`); all when it named none."""
    named = set(re.findall(r"^\s*\[([^\]\s]+)\] Error", output, re.M))
    named |= set(re.findall(r"Host\(([^)\s]+)\), .*?> failed with", output))
    if named:
        return len(named)
    return 0 if exit_code == 0 else hosts


TOOLS = {"fleetfab", "pyinfra", FLOOR}
