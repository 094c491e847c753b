"""One host's failure stays on that host; a run that dies leaves nothing a human must repair.

Each test breaks the lab on purpose while `fab` runs, then checks what the
operator sees and that the next runs converge. The order matters only in
that every test starts and ends with the lab converged.
"""

from __future__ import annotations

import re
import signal
import time

import pytest

from fleetfab.lab.machines import lab_machines
from tests.faults.conftest import WORK_PACKAGE, failed_hosts, reason

#: a worker: nothing else in the lab needs it now, yet every mesh member has it as a peer
VICTIM = "worker2"
#: settled into a step: the apt run has begun when this is printed and a moment passed
STEP_SETTLE = 1.0


def applying(host: str) -> str:
    """The live line that says `host` is applying its base role's packages."""
    return f"[{host}] base: packages"


def test_a_machine_killed_mid_bootstrap_fails_alone_and_the_others_converge(lab):
    lab.give_work(*[h.name for h in lab_machines(lab.inventory)])
    run = lab.start("-H", "nodes", "bootstrap")
    run.wait_for(applying(VICTIM))
    time.sleep(STEP_SETTLE)
    lab.docker("kill", lab.container(VICTIM))
    code = run.finish()
    document = run.document()
    assert code == 1, run.output
    assert failed_hosts(document) == {VICTIM}, run.output
    assert reason(document["hosts"][VICTIM]).startswith("connection lost"), run.output
    for name, host in document["hosts"].items():
        if name != VICTIM:
            assert host["blocked"] == [] and host["error"] is None, (name, host)


def test_a_killed_machine_started_again_converges_and_stays_converged(lab):
    lab.docker("start", lab.container(VICTIM))
    lab.wait_for_ssh(VICTIM)
    code, run = lab.fab("-H", "nodes", "bootstrap")
    assert code == 0, run.output
    code, run = lab.fab("-H", "nodes", "bootstrap")
    assert code == 0 and run.document()["totals"]["changed"] == 0, run.output


def test_a_frozen_machine_is_reported_as_not_answering_and_the_others_are_checked(lab):
    inventory = lab.inventory_copy("short-timeouts", read_timeout=5, connect_timeout=5)
    run = lab.start("drift", inventory=inventory)
    run.wait_for(f"[{VICTIM}] connecting")
    lab.docker("pause", lab.container(VICTIM))
    try:
        code = run.finish()
    finally:
        lab.docker("unpause", lab.container(VICTIM))
    document = run.document()
    assert code == 1, run.output
    assert failed_hosts(document) == {VICTIM}, run.output
    assert re.search(r"did not answer (the SSH handshake )?within 5 s", reason(document["hosts"][VICTIM])), run.output
    assert all(h["error"] is None and not h["blocked"] for n, h in document["hosts"].items() if n != VICTIM)


def test_a_frozen_machine_thawed_passes_the_next_drift(lab):
    code, run = lab.fab("drift")
    assert code == 0, run.output


def test_after_the_controller_is_killed_mid_apply_the_next_bootstrap_finishes_the_work(lab):
    lab.give_work("worker1")
    run = lab.start("-H", "worker1", "bootstrap")
    run.wait_for(applying("worker1"))
    time.sleep(STEP_SETTLE)
    run.process.send_signal(signal.SIGKILL)
    run.finish()
    code, again = lab.fab("-H", "worker1", "bootstrap")
    assert code == 0, again.output
    assert WORK_PACKAGE in lab.sh("worker1", f"dpkg-query -W -f='${{Package}} ${{db:Status-Status}}' {WORK_PACKAGE}")
    code, third = lab.fab("-H", "worker1", "bootstrap")
    assert code == 0 and third.document()["totals"]["changed"] == 0, third.output


def test_an_interrupted_dpkg_is_repaired_by_the_next_bootstrap(lab):
    lab.sh("worker1", f"set -e; DEBIAN_FRONTEND=noninteractive apt-get remove -y -q {WORK_PACKAGE} >/dev/null; "
                      f"cd /tmp && apt-get download -q {WORK_PACKAGE} >/dev/null && dpkg --unpack {WORK_PACKAGE}_*.deb >/dev/null; "
                      f"rm -f /tmp/{WORK_PACKAGE}_*.deb")
    assert lab.sh("worker1", "dpkg --audit").strip(), "the test did not leave dpkg half-done"
    code, run = lab.fab("-H", "worker1", "bootstrap")
    assert code == 0, run.output
    assert lab.sh("worker1", "dpkg --audit").strip() == ""
    assert lab.sh("worker1", f"dpkg-query -W -f='${{db:Status-Status}}' {WORK_PACKAGE}") == "installed"


def test_a_second_bootstrap_started_meanwhile_is_refused_with_the_holders_name(lab):
    hosts = ["worker1", "cp1"]
    lab.give_work(*hosts)
    first = lab.start("-H", ",".join(hosts), "bootstrap")
    first.wait_for(applying(hosts[0]))
    code, second = lab.fab("-H", ",".join(hosts), "bootstrap")
    assert first.finish() == 0, first.output
    assert code == 1
    document = second.document()
    for name in hosts:
        error = document["hosts"][name]["error"] or ""
        assert "another fleetfab run holds the lock" in error and f"(pid {first.process.pid})" in error, second.output
        assert document["hosts"][name]["changes"] == [] or all(
            c["status"] != "applied" for c in document["hosts"][name]["changes"])


def test_a_changed_host_key_is_refused_by_name_and_nothing_reaches_the_host(lab):
    victim = lab.inventory.hosts["worker1"]
    known = lab.tmp / "changed-key" / "known_hosts"
    known.parent.mkdir(parents=True, exist_ok=True)
    other = lab.sh("worker2", "cat /etc/ssh/ssh_host_ed25519_key.pub").split()[:2]
    lines = [line for line in lab.paths.known_hosts.read_text().splitlines() if not line.startswith(f"{victim.address} ")]
    known.write_text("\n".join([*lines, f"{victim.address} {' '.join(other)}", ""]))
    inventory = lab.inventory_copy("changed-key", known_hosts=str(known), trust_on_first_use=False)
    since = lab.sh("worker1", "date +%s").strip()
    code, run = lab.fab("-H", "worker1", "drift", inventory=inventory)
    assert code == 1
    assert reason(run.document()["hosts"]["worker1"]).startswith(f"host key CHANGED for {victim.address}"), run.output
    logins = lab.sh("worker1", f"journalctl -u ssh --since @{since} --no-pager -q | grep -c 'Accepted publickey' || true")
    assert logins.strip() == "0"


def test_ctrl_c_stops_at_a_safe_point_prints_the_summary_and_exits_130(lab):
    hosts = ["worker1", "cp1"]
    lab.give_work(*hosts)
    run = lab.start("-H", ",".join(hosts), "bootstrap")
    run.wait_for(applying(hosts[0]))
    run.process.send_signal(signal.SIGINT)
    code = run.finish()
    assert code == 130, run.output
    assert "interrupted" in run.output and "total" in run.output, run.output
    document = run.document()
    assert document["exit_code"] == 130
    code, again = lab.fab("-H", ",".join(hosts), "bootstrap")
    assert code == 0, again.output


@pytest.fixture(autouse=True, scope="module")
def converged_after(lab):
    yield
    lab.converge()
