"""`hostkeys.collect`: scan the selected hosts' keys, show them, write only those confirmed."""

from __future__ import annotations

import sys

from fleetfab.cli import exitcodes
from fleetfab.cli.commands import consoles, load_or_explain
from fleetfab.hostkeys import Scan, accepted, scan, write


def reach_depth(host) -> int:
    """How many jump hosts stand before `host`: jump hosts are scanned (and confirmed) first."""
    depth = 0
    while host.gateway is not None:
        depth, host = depth + 1, host.gateway
    return depth


def collect(hosts: str | None, accept: str | None = None, ask=input, interactive: bool | None = None) -> int:
    out, err = consoles()
    loaded = load_or_explain(err, hosts)
    if loaded is None:
        return exitcodes.FAILED
    inventory, selected = loaded
    known_hosts = inventory.ssh.known_hosts
    if known_hosts is None:
        print(f"{inventory.path}: ssh.known_hosts: not set; name the file first contact writes (for example known_hosts)",
              file=sys.stderr)
        return exitcodes.FAILED
    named = {f.strip() for f in (accept or "").split(",") if f.strip()}
    interactive = sys.stdin.isatty() if interactive is None else interactive
    failed, seen = False, set()
    for host in sorted(selected, key=reach_depth):
        result = scan(host, inventory.ssh)
        seen |= {key.fingerprint for key in result.offered}
        show(out, result)
        if result.problem or result.recorded:
            failed = failed or bool(result.problem)
            continue
        if named:
            keys, _ = accepted([result], named)
        elif interactive and result.offered:
            answer = ask(f"Are these {host.name}'s own keys, as its console or ssh-keygen -lf shows them? [y/N] ")
            keys = list(result.offered) if answer.strip().lower() in ("y", "yes") else []
        else:
            keys = []
        if keys:
            write(keys, known_hosts)
            out.print(f"{host.name}: {len(keys)} key(s) written to {known_hosts}")
        else:
            failed = True
            out.print(f"{host.name}: not confirmed, nothing written (confirm at the prompt, or name the fingerprints "
                      f"you checked: --accept SHA256:...,SHA256:...)")
    for fingerprint in sorted(named - seen):
        failed = True
        print(f"--accept: {fingerprint} is not a key of the selected hosts", file=sys.stderr)
    return exitcodes.FAILED if failed else exitcodes.OK


def show(out, result: Scan) -> None:
    if result.problem:
        out.print(f"{result.host}: {result.problem}", markup=False)
    for key in result.offered:
        out.print(f"  {key.shown()}", markup=False)
    if result.recorded:
        out.print(f"{result.host}: already recorded, unchanged")
