"""The benchmark run: fresh machines, each tool's three measurements, the floor, the table.

    bench/run [--n 20] [--runs 3] [--rtt-ms 30] [--variants direct,latency] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

from bench import fleet, machines, stats
from bench.peers import setup as peers
from bench.tools import CHECK, REPO, Files, python_of_project
from bench import tools
from bench.workload import ADMIN_KEY, workload_data

WORK = REPO / ".lab" / "bench"
KEY = REPO / ".lab" / "id_ed25519"
VARIANTS = ("direct", "latency")


def log(text: str) -> None:
    print(f"bench: {text}", file=sys.stderr, flush=True)


def parse(argv):
    p = argparse.ArgumentParser(prog="bench/run", description="fleetfab vs pyinfra vs Ansible on the same lab machines")
    p.add_argument("--n", type=int, default=20, help="lab machines (default 20)")
    p.add_argument("--runs", type=int, default=3, help="runs per figure (default 3)")
    p.add_argument("--rtt-ms", type=float, default=30.0, help="round-trip latency added in the latency variant (default 30)")
    p.add_argument("--variants", default="direct,latency", help="direct, latency or both (default)")
    p.add_argument("--ansible-runs", type=int, default=None,
                   help="runs for Ansible, when fewer than --runs (it takes minutes a run at N=20 on 2 cores)")
    p.add_argument("--tools", default=",".join(stats.TOOLS))
    p.add_argument("--json", default=str(WORK / "results.json"), help="where the JSON results go")
    p.add_argument("--keep", action="store_true", help="leave the bench's machines up at the end (debugging)")
    args = p.parse_args(argv)
    args.variants = [v for v in args.variants.split(",") if v]
    args.tools = [t for t in args.tools.split(",") if t]
    for v in args.variants:
        if v not in VARIANTS:
            p.error(f"unknown variant {v!r}")
    for t in args.tools:
        if t not in stats.TOOLS:
            p.error(f"unknown tool {t!r}")
    if args.runs < 1:
        p.error("--runs must be at least 1")
    return args


class Variant:
    """One set of endpoints (direct, or through the delaying proxy) and its files."""

    def __init__(self, name: str, fleet_: list[fleet.Machine], rtt_ms: float):
        self.name = name
        self.fleet = fleet_
        self.rtt_ms = rtt_ms if name == "latency" else 0.0
        self.endpoints = fleet.proxy_endpoints(fleet_) if name == "latency" else fleet.direct_endpoints(fleet_)
        self.files = Files(WORK / name, KEY, WORK / "peers-venv", python_of_project())
        self.proxy: subprocess.Popen | None = None

    def write(self) -> None:
        f, n = self.files, len(self.fleet)
        f.folder.mkdir(parents=True, exist_ok=True)
        ssh = fleet.SshFiles(KEY, f.known_hosts)
        gw = fleet.gateway()
        f.fleetfab_inventory.write_text(yaml.safe_dump(fleet.fleetfab_inventory(self.fleet, self.endpoints, ssh, ADMIN_KEY, gw), sort_keys=False))
        f.pyinfra_inventory.write_text(fleet.pyinfra_inventory(self.fleet, self.endpoints, ssh))
        f.ansible_inventory.write_text(yaml.safe_dump(fleet.ansible_inventory(self.fleet, self.endpoints, ssh), sort_keys=False))
        (f.folder / "ansible-tmp").mkdir(exist_ok=True)
        f.ansible_cfg.write_text(peers.ansible_cfg(n, f.ansible_inventory, f.known_hosts, KEY, f.folder / "ansible-tmp"))
        f.workload.write_text(json.dumps(workload_data(fleet.hosts_entries(self.fleet, self.endpoints), gw), indent=1))
        f.endpoints.write_text(json.dumps([[e.host, e.port] for e in self.endpoints]))

    def trust(self, keys: list[list[str]]) -> None:
        self.files.known_hosts.write_text(fleet.known_hosts_text(self.endpoints, keys))

    def start_proxy(self) -> None:
        if self.name != "latency":
            return
        routes = [f"--route={e.port}={m.address}:22" for m, e in zip(self.fleet, self.endpoints)]
        self.proxy = subprocess.Popen(
            [sys.executable, "-m", "bench.proxy", f"--one-way-ms={self.rtt_ms / 2}", "--max-seconds=14400", *routes],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=REPO, text=True)
        if self.proxy.stdout.readline().strip() != "ready":
            raise RuntimeError("the latency proxy did not start")
        log(f"latency proxy: +{self.rtt_ms:g} ms round trip on 127.0.0.1:{self.endpoints[0].port}-{self.endpoints[-1].port}")

    def stop_proxy(self) -> None:
        if self.proxy is not None:
            self.proxy.stdin.close()
            try:
                self.proxy.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proxy.terminate()
                self.proxy.wait(timeout=10)
            self.proxy = None


def fresh_machines(variants: list[Variant], image: str) -> None:
    started = time.monotonic()
    fleet_ = variants[0].fleet
    machines.create(fleet_, image, REPO)
    machines.wait_for_ssh(fleet_)
    machines.wait_for_boot(fleet_)
    keys = machines.host_keys(fleet_)
    for v in variants:
        v.trust(keys)
    log(f"{len(fleet_)} fresh machines have booted and answer ssh ({time.monotonic() - started:.1f} s)")


def measure_variant(variant: Variant, args, image: str, results: dict) -> None:
    samples = {t: {m: [] for m in stats.MEASUREMENTS} for t in args.tools}
    failures: list[str] = []
    floor_samples: list[float] = []
    loads: list[float] = []
    trips = None
    variant.start_proxy()
    try:
        for r in range(args.runs):
            for tool in args.tools:
                if tool == "ansible" and args.ansible_runs is not None and r >= args.ansible_runs:
                    continue
                fresh_machines([variant], image)
                for measurement in stats.MEASUREMENTS:
                    tag = f"{measurement.split()[0].replace('-', '')}-{r + 1}"
                    outcome = tools.run(tool, variant.files, measurement, tag, len(variant.fleet))
                    status = "ok" if outcome.ok else "FAILED"
                    load = os.getloadavg()[0]
                    loads.append(load)
                    log(f"[{variant.name} run {r + 1}] {tool} {measurement}: {outcome.seconds:.2f} s ({status}; {outcome.detail}; load {load:.1f})")
                    if outcome.ok:
                        samples[tool][measurement].append(outcome.seconds)
                    else:
                        failures.append(f"{variant.name} run {r + 1} {tool} {measurement}: {outcome.detail}; see {variant.files.logs}")
                    if tool == "fleetfab" and measurement == CHECK and outcome.ok:
                        trips = stats.round_trips(outcome.extra["report"])
                floor = tools.floor(variant.files, f"{tool}-{r + 1}")
                log(f"[{variant.name} run {r + 1}] floor: {floor.seconds:.2f} s ({'ok' if floor.ok else 'FAILED'})")
                if floor.ok:
                    floor_samples.append(floor.seconds)
                else:
                    failures.append(f"{variant.name} run {r + 1} floor: {floor.detail}")
    finally:
        variant.stop_proxy()
    figures = {t: {m: stats.figure(s) for m, s in ms.items()} for t, ms in samples.items()}
    results[variant.name] = {
        "figures": figures,
        "floor": stats.figure(floor_samples),
        "samples": samples,
        "floor_samples": floor_samples,
        "round_trips": trips,
        "failures": failures,
        "rtt_ms": variant.rtt_ms,
        "load": [min(loads), max(loads)] if loads else None,
    }


def git_state() -> str:
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, text=True, capture_output=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "fleetfab", "roles"], cwd=REPO, text=True, capture_output=True).stdout.strip()
    return head + (" (engine/roles with uncommitted changes)" if dirty else "")


def render(args, results: dict, host: dict, versions: dict, engine: str) -> tuple[str, dict]:
    n = args.n
    out = [
        f"## fleetfab vs pyinfra vs Ansible, N={n} lab machines",
        "",
        f"Machine: {host['cpu']}, {host['cores']} cores, {host['memory_gib']} GiB, {host['os']}, kernel {host['kernel']}, docker {host['docker']}.",
        f"fleetfab {engine}; pyinfra {versions.get('pyinfra')}; ansible-core {versions.get('ansible-core')} (forks={n}, pipelining on, no fact gathering).",
        f"{args.runs} run(s) per figure" + (f" ({args.ansible_runs} for Ansible)" if args.ansible_runs is not None and args.ansible_runs < args.runs else "") + ", fresh machines for every first apply; the floor is Fabric's ThreadingGroup running `true` on every host.",
        "",
    ]
    document = {"n": n, "runs": args.runs, "machine": host, "versions": versions, "fleetfab": engine, "variants": {}}
    for name in args.variants:
        res = results.get(name)
        if res is None:
            continue
        title = "direct (lab network)" if name == "direct" else f"with {res['rtt_ms']:g} ms round-trip latency (delaying proxy)"
        out.append(stats.table(res["figures"], res["floor"], title))
        out.append("")
        trips = res["round_trips"]
        if trips:
            labels = ", ".join(f"{k}={v['min']}" + (f"–{v['max']}" if v["max"] != v["min"] else "") for k, v in trips["per_label"].items())
            out.append(f"fleetfab drift, SSH round trips per host: {labels} (roles: base, bench)")
            out.append("")
        for target, met, why in stats.targets(res["figures"], res["floor"], trips, roles=2):
            mark = "met" if met else ("not measured" if met is None else "NOT MET")
            out.append(f"- {target}: **{mark}** ({why})")
        if res["load"]:
            out.append(f"- 1-minute load average on this (shared) machine after each measurement: {res['load'][0]:.1f}–{res['load'][1]:.1f}")
        for failure in res["failures"]:
            out.append(f"- failure: {failure}")
        out.append("")
        document["variants"][name] = {
            "rtt_ms": res["rtt_ms"],
            "figures": {t: {m: (f.as_dict() if f else None) for m, f in ms.items()} for t, ms in res["figures"].items()},
            "floor": res["floor"].as_dict() if res["floor"] else None,
            "samples": res["samples"],
            "floor_samples": res["floor_samples"],
            "round_trips": trips,
            "targets": [{"target": t, "met": m, "detail": d} for t, m, d in stats.targets(res["figures"], res["floor"], trips, roles=2)],
            "failures": res["failures"],
            "load_average_1min": res["load"],
        }
    return "\n".join(out), document


def main(argv=None) -> int:
    args = parse(argv)
    # a stopped run still destroys its machines and ends its proxy (finally: below)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    fleet_ = fleet.machines(args.n)
    WORK.mkdir(parents=True, exist_ok=True)
    versions = peers.ensure_venv(WORK / "peers-venv", log)
    machines.raise_inotify_limit(args.n, log)
    image = machines.ensure_image(WORK, REPO, KEY, log)
    host = machines.describe_host()
    engine = git_state()
    results: dict = {}
    try:
        for name in args.variants:
            variant = Variant(name, fleet_, args.rtt_ms)
            variant.write()
            measure_variant(variant, args, image, results)
    finally:
        if args.keep:
            log("--keep: the bench's machines stay up (remove them with: bench/run --destroy)")
        else:
            machines.destroy(REPO)
            log("the bench's machines are destroyed")
    text, document = render(args, results, host, versions, engine)
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(document, indent=1) + "\n")
    print(text)
    print(f"JSON: {args.json}")
    last = results.get("direct") or next(iter(results.values()), None)
    figures = last["figures"] if last else {}
    print(stats.last_line(args.n, figures, last["floor"] if last else None))
    return 0 if all(not r["failures"] for r in results.values()) else 1


def destroy_only() -> int:
    machines.destroy(REPO)
    log("the bench's machines are destroyed")
    return 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--destroy"]:
        sys.exit(destroy_only())
    sys.exit(main())
