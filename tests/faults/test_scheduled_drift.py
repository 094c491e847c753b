"""The ops host checks the fleet on its own, on its timer: what it finds, who tells, and against which inventory.

The lab's ops host (the controller role) runs its scheduled check as the
drift account. These tests let the timer itself start each check (the timer
is restarted, and its first check comes within a minute), edit a managed file
by hand on another machine and read what the ops host left: report, metrics
(parsed with prometheus_client) and the notification, which runs as an account
of its own. Then the operator changes the inventory and bootstraps the name
servers: with the ops host reachable its copy follows, with the ops host held
by another run it does not, and its next check says its copy is older than the
primary's last bootstrap (the host whose zone file changed) instead of raising
drift. Only the ops host and the name servers are touched, and they
are bootstrapped back from the lab's inventory at the end.
"""

from __future__ import annotations

import hashlib
import json
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from fleetfab.roles.controller.settings import (INVENTORY, KEY, NOTIFY_ACCOUNT, NOTIFY_HOME, NOTIFY_UNIT, SOURCE,
                                                STATE_DIR, UNIT, VENV)
from fleetfab.session import LOCK_FILE
from tests.faults.conftest import FaultLab

EDITED = "ns2"
#: the base role writes /etc/hosts: a line added by hand is drift
HAND_EDIT = "echo '198.18.0.250 added-by-hand' >> /etc/hosts"
#: where the lab's notification command (inventory/lab.yml) writes the change
NOTIFIED = f"{NOTIFY_HOME}/last-notification.json"
METRICS = "/var/lib/prometheus/node-exporter/fleetfab_drift.prom"
#: the timer's first check after it starts: 15 s, spread by up to 30 s
FIRST_CHECK_WITHIN = 60
#: a record the changed inventory adds to a zone both name servers serve: new zone content, same probes
NEW_RECORD = {"name": "stale-copy-probe", "type": "A", "value": "198.18.0.99"}
DNS = ("ns1", "ns2")
#: of the name servers, the one whose files hold the zone's records (the secondary transfers them)
PRIMARY = "ns1"


@pytest.fixture(scope="module")
def lab(pytestconfig, tmp_path_factory):
    """This module converges only the hosts it touches (the ops host, the name servers), never the whole lab."""
    import shutil
    import subprocess

    from fleetfab.lab.paths import inventory_path

    if not shutil.which("docker") or subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        pytest.skip("the lab's docker engine does not answer: run ./run lab first")
    lab = FaultLab(inventory_path(pytestconfig.getoption("inventory")), tmp_path_factory.mktemp("scheduled"))
    bootstrap(lab, "dns")
    bootstrap(lab, "ops")
    yield lab
    bootstrap(lab, "dns")
    bootstrap(lab, "ops")


def bootstrap(lab, hosts: str, inventory=None):
    code, run = lab.fab("-H", hosts, "bootstrap", inventory=inventory)
    assert code == 0, run.output
    return run


def ops_host(lab) -> str:
    (name,) = [h.name for h in lab.inventory.hosts.values() if "controller" in h.roles]
    return name


def unit_show(lab, unit: str, prop: str) -> str:
    return lab.sh(ops_host(lab), f"systemctl show -p {prop} --value {unit}").strip()


def host_clock(lab) -> int:
    return int(lab.sh(ops_host(lab), "date +%s"))


def wait_for_checks(lab, check_before: str, notify_before: str, limit: float = 150) -> None:
    """Until the check that follows `check_before` (an InvocationID) and the notification unit after it have ended."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        check, notify = unit_show(lab, f"{UNIT}.service", "InvocationID"), unit_show(lab, f"{NOTIFY_UNIT}.service", "InvocationID")
        idle = {unit_show(lab, f"{u}.service", "ActiveState") for u in (UNIT, NOTIFY_UNIT)} <= {"inactive", "failed"}
        if check != check_before and notify != notify_before and idle:
            return
        time.sleep(2)
    raise AssertionError(f"the timer started no check (and its notification) within {limit} s")


def read_state(lab) -> dict:
    ops = ops_host(lab)
    read = lambda path: lab.sh(ops, f"cat {path} 2>/dev/null || true")
    return {
        "latest": json.loads(read(f"{STATE_DIR}/latest.json")),
        "change": json.loads(read(f"{STATE_DIR}/changes.json")),
        "metrics": {(s.name, s.labels.get("host")): s.value for family in text_string_to_metric_families(read(METRICS))
                    for s in family.samples},
        "notified": json.loads(read(NOTIFIED) or "null"),
        "notified_by": lab.sh(ops, f"stat -c %U {NOTIFIED} 2>/dev/null || true").strip(),
        "source": json.loads(read(SOURCE) or "null"),
    }


def timer_check(lab) -> dict:
    """The timer's next check, started by the timer itself (restarted: its first check comes within a minute)."""
    check, notify = unit_show(lab, f"{UNIT}.service", "InvocationID"), unit_show(lab, f"{NOTIFY_UNIT}.service", "InvocationID")
    lab.sh(ops_host(lab), f"rm -f {NOTIFIED}; systemctl restart {UNIT}.timer")
    wait_for_checks(lab, check, notify)
    return read_state(lab)


def events(state, *hosts: str) -> list[tuple]:
    """The notified events of `hosts`."""
    return [(e["host"], e["event"]) for e in (state["notified"] or {}).get("events", []) if e["host"] in hosts]


def drifting_counts(state) -> dict:
    return {host: value for (name, host), value in state["metrics"].items() if name == "fleetfab_drift_host_resources_drifting"}


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- the timer: the first check within a minute ------------------------------------------


@pytest.fixture(scope="module")
def installed(lab):
    """The units removed, then installed again by the operator's bootstrap of the ops host."""
    ops = ops_host(lab)
    lab.sh(ops, f"systemctl disable --now {UNIT}.timer; rm -f /etc/systemd/system/{UNIT}.timer "
                f"/etc/systemd/system/{UNIT}.service; systemctl daemon-reload")
    check = unit_show(lab, f"{UNIT}.service", "InvocationID")
    bootstrap(lab, "ops")
    done = host_clock(lab)
    notify = unit_show(lab, f"{NOTIFY_UNIT}.service", "InvocationID")
    wait_for_checks(lab, check, notify, limit=FIRST_CHECK_WITHIN + 90)
    started = int(unit_show(lab, f"{UNIT}.service", "ExecMainStartTimestamp --timestamp=unix").lstrip("@") or 0)
    return done, started


def test_the_timer_is_active_on_the_ops_host(lab, installed):
    assert unit_show(lab, f"{UNIT}.timer", "ActiveState") == "active"


def test_the_first_check_after_installation_runs_within_a_minute(installed):
    done, started = installed
    assert 0 < started - done <= FIRST_CHECK_WITHIN, (done, started)


# -- a hand edit, found by the timer's check and cleared after a bootstrap ------------------


@pytest.fixture(scope="module")
def baseline(lab, installed):
    """The fleet before anything is done to it: every later check is compared with this one, so
    a host the test does not touch counts as it was (0 on a converged lab)."""
    return timer_check(lab)


@pytest.fixture(scope="module")
def drifted(lab, baseline):
    lab.sh(EDITED, HAND_EDIT)
    return timer_check(lab)


@pytest.fixture(scope="module")
def repaired(lab, drifted):
    bootstrap(lab, EDITED)
    return timer_check(lab)


def test_a_hand_edit_shows_in_the_ops_hosts_report(drifted):
    host = drifted["latest"]["hosts"][EDITED]
    assert drifted["latest"]["exit_code"] == 2
    assert [c["resource"] for c in host["changes"]] == ["file /etc/hosts"]


def test_a_hand_edit_shows_in_the_metrics_for_that_host_only(baseline, drifted):
    metrics = drifted["metrics"]
    assert metrics[("fleetfab_drift_host_resources_drifting", EDITED)] == 1
    assert metrics[("fleetfab_drift_host_checked", EDITED)] == 1
    before, after = drifting_counts(baseline), drifting_counts(drifted)
    assert {host: after[host] for host in after if after[host] != before.get(host)} == {EDITED: 1}


def test_the_notification_ran_with_the_change(drifted):
    assert events(drifted, EDITED) == [(EDITED, "drift_appeared")]


def test_the_notification_ran_as_the_notification_account(lab, drifted):
    assert drifted["notified_by"] == NOTIFY_ACCOUNT
    assert unit_show(lab, f"{NOTIFY_UNIT}.service", "User") == NOTIFY_ACCOUNT


def test_the_notification_account_cannot_read_the_ops_hosts_key(lab, drifted):
    ops = ops_host(lab)
    assert lab.sh(ops, f"stat -c '%a %U' {KEY}").strip() == "600 fleetfab"
    tried = lab.sh(ops, f"runuser -u {NOTIFY_ACCOUNT} -- cat {KEY} >/dev/null 2>&1; echo $?").strip()
    assert tried != "0"


def test_after_the_operators_bootstrap_the_next_check_is_as_clean_as_before_the_edit(baseline, repaired):
    assert repaired["latest"]["exit_code"] == baseline["latest"]["exit_code"] == 0
    assert repaired["metrics"][("fleetfab_drift_host_resources_drifting", EDITED)] == 0


def test_the_clearing_is_notified_too(repaired):
    assert events(repaired, EDITED) == [(EDITED, "drift_cleared")]


# -- a changed inventory, bootstrapped to the name servers only ----------------------------


def with_new_record(document: dict) -> None:
    document["groups"]["dns"]["vars"]["bind9"]["zones"]["example.com"]["records"].append(dict(NEW_RECORD))


@pytest.fixture(scope="module")
def changed(lab, repaired):
    return lab.inventory_copy("changed", change=with_new_record)


@pytest.fixture(scope="module")
def followed(lab, changed):
    """The ops host reachable: the bootstrap of the name servers brings its copy up to date."""
    run = bootstrap(lab, "dns", inventory=changed)
    return run, timer_check(lab)


def test_a_bootstrap_of_other_hosts_brings_the_ops_hosts_copy_up_to_date(changed, followed):
    _run, state = followed
    assert state["source"] == {"sha256": digest(changed)}


def test_the_next_check_after_it_finds_no_drift(followed):
    _run, state = followed
    assert state["latest"]["exit_code"] == 0 and state["latest"]["copy"]["stale_hosts"] == []
    assert events(state, *DNS) == []


#: the pid of the test's own holder of the ops host's lock
HOLDER = "/run/fleetfab-test-lock-holder.pid"


def hold_lock(lab, ops: str) -> None:
    """Another run holding the ops host: a shell that takes its host lock and sleeps with it."""
    lab.sh(ops, f"sh -c 'exec 9>>{LOCK_FILE} && flock -x 9 && exec sleep 600' >/dev/null 2>&1 & echo $! > {HOLDER}; "
                f"for i in $(seq 50); do flock -n -s {LOCK_FILE} true || exit 0; sleep 0.1; done; exit 1")


def release_lock(lab, ops: str) -> None:
    lab.sh(ops, f"[ -s {HOLDER} ] && kill $(cat {HOLDER}) 2>/dev/null; rm -f {HOLDER}; "
                f"for i in $(seq 50); do flock -n -s {LOCK_FILE} true && exit 0; sleep 0.1; done; exit 1")


@pytest.fixture(scope="module")
def held_back(lab, changed, followed):
    """Back to the lab's inventory on the name servers while another run holds the ops host: its copy stays
    the changed one, older than the name servers' last bootstrap."""
    ops = ops_host(lab)
    hold_lock(lab, ops)
    try:
        run = bootstrap(lab, "dns")
    finally:
        release_lock(lab, ops)
    return run, timer_check(lab)


def test_an_ops_host_that_could_not_follow_is_named_by_the_bootstrap_which_still_succeeds(lab, held_back):
    run, _state = held_back
    assert f"{ops_host(lab)}: the ops host's copy of the inventory was not brought up to date" in run.output


def test_a_copy_older_than_the_hosts_last_bootstrap_is_said_in_the_report_not_raised_as_drift(changed, held_back):
    _run, state = held_back
    latest = state["latest"]
    assert state["source"] == {"sha256": digest(changed)}
    assert latest["exit_code"] == 3 and latest["copy"]["stale_hosts"] == [PRIMARY]
    assert latest["hosts"][PRIMARY]["status"] == "stale" and latest["hosts"][PRIMARY]["changes"] == []
    assert latest["hosts"][PRIMARY]["stale_changes"], "the differences a stale copy sees are kept aside"
    assert [latest["hosts"][name]["status"] for name in DNS if name != PRIMARY] == ["ok"]


def test_a_stale_copy_shows_in_the_metrics(held_back):
    _run, state = held_back
    metrics = state["metrics"]
    assert metrics[("fleetfab_drift_copy_stale", None)] == 1
    assert {name: metrics[("fleetfab_drift_host_stale_copy", name)] for name in DNS} == {"ns1": 1, "ns2": 0}
    assert {metrics[("fleetfab_drift_host_resources_drifting", name)] for name in DNS} == {0}


def test_the_notification_says_the_copy_is_older_and_raises_no_drift(held_back):
    _run, state = held_back
    assert events(state, *DNS) == [(PRIMARY, "stale_copy")]


def test_the_ops_hosts_copy_of_the_inventory_refuses_to_apply(lab):
    command = (f"cd /tmp && runuser -u fleetfab -- env FLEETFAB_INVENTORY={INVENTORY} {VENV}/bin/python -c "
               "'from fleetfab.cli import commands; raise SystemExit(commands.bootstrap(None))' 2>&1; echo exit=$?")
    out = lab.sh(ops_host(lab), command)
    assert "run.read_only: this inventory only checks hosts" in out and out.strip().endswith("exit=1")
