"""The scale benchmark: fleetfab, the floor and pyinfra on N sshd endpoints on loopback.

    bench/scale [--n 25,100,200,300] [--runs 3] [--parallel 50] [--pyinfra-max-n 100]
                [--processes 1,2] [--drift-series K] [--pause-while FILE]

Each run at each N: fresh scratch folders, then fleetfab's first apply,
no-change re-apply and drift, then the floor (Fabric's ThreadingGroup
running `true`, known_hosts parsed once) on the same endpoints, then pyinfra's
three measurements on fresh folders again (up to --pyinfra-max-n). Each
measurement is one tool process: wall time, its own CPU time (user+sys),
its peak memory, and the hosts it failed on. `--drift-series K` ends with K
consecutive drifts at the largest N, counting the runs with no failed host.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

from bench import scale_stats, scale_tools
from bench.endpoints import FIRST_PORT, Endpoints
from bench.peers import setup as peers
from bench.scale_inventory import ScaleFiles, write_files
from bench.scale_stats import APPLY, DRIFT, FLOOR, REAPPLY, Sample
from bench.tools import REPO, python_of_project

WORK = REPO / ".lab" / "bench" / "scale"
PEERS_VENV = REPO / ".lab" / "bench" / "peers-venv"
MAX_N = 1000
POLL_SECONDS = 30


def log(text: str) -> None:
    print(f"scale: {text}", file=sys.stderr, flush=True)


def numbers(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def parse(argv):
    p = argparse.ArgumentParser(prog="bench/scale", description="fleetfab, the floor and pyinfra on N sshd endpoints on loopback")
    p.add_argument("--n", type=numbers, default=[25, 100, 200, 300], help="endpoint counts (default 25,100,200,300)")
    p.add_argument("--runs", type=numbers, default=[3], help="runs at each N: one number, or one per N (default 3)")
    p.add_argument("--parallel", type=int, default=50, help="fleetfab's run.parallel and pyinfra's --parallel (default 50)")
    p.add_argument("--pyinfra-max-n", type=int, default=100, help="pyinfra only up to this N (0: never; default 100)")
    p.add_argument("--processes", type=numbers, default=[1],
                   help="also measure drift as K fleetfab processes at once, each with its share of hosts (e.g. 1,2)")
    p.add_argument("--drift-series", type=int, default=0, help="then K consecutive drifts at the largest N")
    p.add_argument("--pause-while", type=Path, help="before each measurement, wait while this file exists (another heavy job)")
    p.add_argument("--pause-max-minutes", type=float, default=240, help="give up after waiting this long in all (default 240)")
    p.add_argument("--first-port", type=int, default=FIRST_PORT, help=f"endpoints' ports from here (default {FIRST_PORT})")
    p.add_argument("--timeout", type=float, default=1800, help="seconds a tool run may take before it is killed")
    p.add_argument("--json", type=Path, default=WORK / "results.json")
    p.add_argument("--markdown", type=Path, default=WORK / "results.md")
    args = p.parse_args(argv)
    if not args.n or not all(1 <= n <= MAX_N for n in args.n):
        p.error(f"every N must be between 1 and {MAX_N}")
    if len(args.runs) not in (1, len(args.n)) or min(args.runs) < 1:
        p.error("--runs: one number of at least 1, or one per N")
    if len(args.runs) == 1:
        args.runs = args.runs * len(args.n)
    if 1 not in args.processes:
        args.processes = [1, *args.processes]
    return args


class Pauser:
    """Waits, before each measurement, while another heavy job says it runs; bounded in time."""

    def __init__(self, path: Path | None, max_minutes: float):
        self.path = path
        self.budget = max_minutes * 60
        self.waited = 0.0

    def wait(self) -> None:
        if self.path is None:
            return
        announced = False
        while self.path.exists():
            if self.waited >= self.budget:
                raise SystemExit(f"scale: {self.path} still exists after {self.waited / 60:.0f} minutes of waiting; stopping")
            if not announced:
                log(f"{self.path} exists: waiting (checking every {POLL_SECONDS} s)")
                announced = True
            time.sleep(POLL_SECONDS)
            self.waited += POLL_SECONDS
        if announced:
            log(f"{self.path} is gone: going on")


class Bench:
    """One invocation: the endpoints, the samples so far, and where they are written."""

    def __init__(self, args, endpoints: Endpoints):
        self.args = args
        self.endpoints = endpoints
        self.python = python_of_project()
        self.scratch = WORK / "scratch"
        self.samples: list[Sample] = []
        #: the drift series' own samples, apart: they are not runs of the table
        self.series_samples: list[Sample] = []
        self.series: dict = {}
        self.pauser = Pauser(args.pause_while, args.pause_max_minutes)
        self.document = {"machine": machine(), "fleetfab": git_state(), "versions": versions(), "settings": settings(args)}

    def files_for(self, n: int) -> ScaleFiles:
        files = ScaleFiles(WORK / f"n{n}")
        write_files(files, self.endpoints.ports[:n], self.endpoints.keys.host_key_line(), self.endpoints.keys.client_key,
                    self.scratch, self.args.parallel, tuple(self.args.processes))
        return files

    def fresh_scratch(self) -> None:
        shutil.rmtree(self.scratch, ignore_errors=True)
        self.scratch.mkdir(parents=True)

    def measure(self, tool: str, measurement: str, n: int, run: int, action, series: bool = False) -> scale_tools.Outcome:
        self.pauser.wait()
        outcome = action()
        u = outcome.usage
        (self.series_samples if series else self.samples).append(Sample(tool, measurement, n, run, round(u.wall, 3), round(u.cpu, 3), round(u.max_rss_mib, 1),
                                   outcome.failed_hosts, outcome.ok))
        load = os.getloadavg()[0]
        log(f"[N={n} run {run}] {tool} {measurement}: {u.wall:.2f} s wall, {u.cpu:.2f} s CPU, {u.max_rss_mib:.0f} MiB "
            f"({'ok' if outcome.ok else 'FAILED'}; {outcome.detail}; load {load:.1f})")
        self.save()
        return outcome

    def fleetfab(self, files, measurement, n, run, processes=1, tag=None):
        tool = "fleetfab" if processes == 1 else f"fleetfab, {processes} processes"
        tag = tag or f"{measurement.split()[0].replace('-', '')}-{run}-p{processes}"
        return self.measure(tool, measurement, n, run, lambda: scale_tools.fleetfab(
            files, self.python, measurement, tag, n, processes, self.args.timeout), series=tag.startswith("series"))

    def floor(self, files, n, run):
        return self.measure("floor", FLOOR, n, run, lambda: scale_tools.floor(
            files, self.python, self.endpoints.keys.client_key, f"{run}", n, self.args.timeout))

    def pyinfra(self, files, measurement, n, run):
        tag = f"{measurement.split()[0].replace('-', '')}-{run}"
        return self.measure("pyinfra", measurement, n, run, lambda: scale_tools.pyinfra(
            files, PEERS_VENV, self.scratch, measurement, tag, n, self.args.parallel, self.args.timeout))

    def one_run(self, files: ScaleFiles, n: int, run: int) -> None:
        self.fresh_scratch()
        for measurement in (APPLY, REAPPLY, DRIFT):
            self.fleetfab(files, measurement, n, run)
        self.floor(files, n, run)
        for processes in self.args.processes[1:]:
            self.fleetfab(files, DRIFT, n, run, processes)
        if n <= self.args.pyinfra_max_n:
            self.fresh_scratch()
            for measurement in (APPLY, REAPPLY, DRIFT):
                self.pyinfra(files, measurement, n, run)

    def drift_series(self, files: ScaleFiles, n: int, count: int) -> None:
        """Consecutive drifts on a converged fleet, each judged on its failed hosts."""
        self.fresh_scratch()
        self.fleetfab(files, APPLY, n, 0, tag="series-apply")
        failed = []
        for i in range(count):
            outcome = self.fleetfab(files, DRIFT, n, i + 1, tag=f"series-{i + 1}")
            failed.append(outcome.failed_hosts)
        self.series = {"n": n, "runs": count, "failed_hosts": failed,
                       "consecutive_clean": scale_stats.consecutive_clean(failed),
                       "runs_with_failures": sum(1 for f in failed if f)}
        log(f"drift series at N={n}: {self.series['consecutive_clean']} consecutive runs of {count} with no failed host")

    def save(self) -> None:
        self.document["samples"] = [asdict(s) for s in self.samples]
        self.document["drift_series"] = {**self.series, "samples": [asdict(s) for s in self.series_samples]}
        self.args.json.parent.mkdir(parents=True, exist_ok=True)
        self.args.json.write_text(json.dumps(self.document, indent=1) + "\n")

    def markdown(self) -> str:
        d, m = self.document, self.document["machine"]
        header = (f"fleetfab {d['fleetfab']}; {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, kernel {m['kernel']}, "
                  f"{m['openssh']}; run.parallel {self.args.parallel}; {', '.join(f'{k} {v}' for k, v in d['versions'].items())}")
        text = header + "\n\n" + scale_stats.report(self.samples)
        if self.series:
            s = self.series
            text += (f"\n\ndrift series at N={s['n']}: {s['runs']} consecutive drifts, "
                     f"{s['runs_with_failures']} with a failed host; longest clean stretch {s['consecutive_clean']}")
        return text


def machine() -> dict:
    cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines() if l.startswith("model name")), "unknown")
    mem_kib = int(Path("/proc/meminfo").read_text().split()[1])
    sshd = subprocess.run(["ssh", "-V"], capture_output=True, text=True).stderr.strip()
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(mem_kib / 1024 / 1024, 1),
            "kernel": os.uname().release, "openssh": sshd, "open_files_limit": resource.getrlimit(resource.RLIMIT_NOFILE)[0]}


def git_state() -> str:
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, text=True, capture_output=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "fleetfab"], cwd=REPO, text=True, capture_output=True).stdout.strip()
    return head + (" (engine with uncommitted changes)" if dirty else "")


def versions() -> dict:
    code = "import importlib.metadata as m, json; print(json.dumps({p: m.version(p) for p in ('fabric', 'paramiko')}))"
    out = subprocess.run([str(python_of_project()), "-c", code], capture_output=True, text=True).stdout
    found = json.loads(out) if out else {}
    if (PEERS_VENV / "bin" / "pyinfra").exists():
        found["pyinfra"] = peers.versions(PEERS_VENV).get("pyinfra")
    return found


def settings(args) -> dict:
    return {"n": args.n, "runs": args.runs, "parallel": args.parallel, "pyinfra_max_n": args.pyinfra_max_n,
            "processes": args.processes, "drift_series": args.drift_series}


def raise_open_files_limit() -> None:
    """The floor holds one socket a host at once; the hard limit is what the system allows."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def main(argv=None) -> int:
    args = parse(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # the endpoints stop in `with` below
    raise_open_files_limit()
    if args.pyinfra_max_n and min(args.n) <= args.pyinfra_max_n:
        peers.ensure_venv(PEERS_VENV, log)
    started = time.monotonic()
    with Endpoints(WORK / "endpoints", max(args.n), args.first_port) as endpoints:
        log(f"{max(args.n)} endpoints listen on 127.0.0.1:{endpoints.ports[0]}-{endpoints.ports[-1]}")
        bench = Bench(args, endpoints)
        try:
            for n, runs in zip(args.n, args.runs):
                files = bench.files_for(n)
                for run in range(1, runs + 1):
                    bench.one_run(files, n, run)
            if args.drift_series:
                bench.drift_series(bench.files_for(max(args.n)), max(args.n), args.drift_series)
        finally:
            bench.save()
            shutil.rmtree(bench.scratch, ignore_errors=True)
    text = bench.markdown()
    args.markdown.parent.mkdir(parents=True, exist_ok=True)
    args.markdown.write_text(text + "\n")
    print(text)
    print(f"JSON: {args.json}; markdown: {args.markdown}; {time.monotonic() - started:.0f} s in all")
    return 0 if all(s.ok for s in bench.samples + bench.series_samples) else 1


if __name__ == "__main__":
    sys.exit(main())
