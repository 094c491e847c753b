"""Every lab host's sshd as ssh-audit 3.9 would have it.

No failure, and no warning but the post-quantum one about the curve25519
exchange, kept while paramiko (fleetfab's client) has no post-quantum
exchange that OpenSSH 9.2 also speaks. ssh-audit runs from this machine
against each host's port 22; a host reached only through another (a VM
guest) is audited through a tunnel from that host, the way fleetfab reaches
it. The rate test (dozens of connections) is skipped: OpenSSH 10 penalises
a source that opens many connections without logging in, and the tests
after this one need the hosts.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

AUDIT = Path(sys.executable).with_name("ssh-audit")
#: the one warning kept: curve25519 is what paramiko agrees on
KEPT = {("kex", "curve25519-sha256"), ("kex", "curve25519-sha256@libssh.org")}
POST_QUANTUM = "does not provide protection against post-quantum attacks"


def findings(report: dict) -> list[str]:
    """ssh-audit's failures and warnings in a report, but the kept one, as readable lines."""
    found = [f"CVE {cve.get('name')}: {cve.get('description', '')}" for cve in report.get("cves", [])]
    for section in ("kex", "key", "enc", "mac"):
        for algorithm in report.get(section, []):
            notes = algorithm.get("notes", {})
            for level in ("fail", "warn"):
                for note in notes.get(level, []):
                    if level == "warn" and (section, algorithm["algorithm"]) in KEPT and note == POST_QUANTUM:
                        continue
                    found.append(f"{level} {section} {algorithm['algorithm']}: {note}")
    return found


def audit(address: str, port: int) -> dict:
    result = subprocess.run([str(AUDIT), "-j", "--skip-rate-test", "-t", "20", f"{address}:{port}"],
                            capture_output=True, text=True, timeout=120)
    try:
        return json.loads(result.stdout)
    except json.JSONDecodeError:
        raise AssertionError(f"ssh-audit gave no report for {address}:{port}: {result.stdout}{result.stderr}") from None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def reachable(lab, host):
    """(address, port) where this machine reaches `host`'s sshd: a tunnel through its gateway if it has one."""
    if host.gateway is None:
        yield host.address, host.port
        return
    port = free_port()
    tunnel = subprocess.Popen(["ssh", "-F", str(lab.paths.ssh_config), "-N", "-o", "BatchMode=yes", "-o", "ExitOnForwardFailure=yes",
                               "-L", f"127.0.0.1:{port}:{host.address}:{host.port}", host.gateway.name])
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and tunnel.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.5)
        yield "127.0.0.1", port
    finally:
        tunnel.terminate()
        tunnel.wait(timeout=10)


def test_no_lab_host_offers_what_ssh_audit_fails_or_warns_about_but_curve25519(lab):
    if not AUDIT.exists():
        pytest.skip(f"ssh-audit is not installed beside {sys.executable} (the test extras install it)")
    found = {}
    for host in lab.inventory.hosts.values():
        with reachable(lab, host) as (address, port):
            problems = findings(audit(address, port))
        if problems:
            found[host.name] = problems
        # Leave every host answering logins for the tests that follow.
        lab.wait_for_ssh(host.name)
    assert found == {}
