"""The ops host checks the fleet on its own: a hand edit shows in its report, metrics and notification.

The lab's ops host (the controller role) runs its scheduled check as the
drift account it logs in with everywhere. The tests start the service once
instead of waiting for the timer, edit a managed file by hand on another
machine, and read what the ops host left; then the operator bootstraps the
edited host and the next scheduled check finds the fleet clean again.
"""

from __future__ import annotations

import json

import pytest
from prometheus_client.parser import text_string_to_metric_families

from fleetfab.roles.controller.settings import INVENTORY, STATE_DIR, UNIT, VENV

EDITED = "ns2"
#: the base role writes /etc/hosts: a line added by hand is drift
HAND_EDIT = "echo '198.18.0.250 added-by-hand' >> /etc/hosts"
NOTIFIED = "/var/lib/fleetfab/last-notification.json"


def ops_host(lab) -> str:
    (name,) = [h.name for h in lab.inventory.hosts.values() if "controller" in h.roles]
    return name


def scheduled_check(lab) -> dict:
    """One scheduled run, started by hand; what it left on the ops host."""
    ops = ops_host(lab)
    lab.sh(ops, f"rm -f {NOTIFIED}; systemctl start {UNIT}.service")
    read = lambda path: lab.sh(ops, f"cat {path} 2>/dev/null || true")
    return {
        "latest": json.loads(read(f"{STATE_DIR}/latest.json")),
        "change": json.loads(read(f"{STATE_DIR}/changes.json")),
        "metrics": {(s.name, s.labels.get("host")): s.value
                    for family in text_string_to_metric_families(read("/var/lib/prometheus/node-exporter/fleetfab_drift.prom"))
                    for s in family.samples},
        "notified": json.loads(read(NOTIFIED) or "null"),
    }


@pytest.fixture(scope="module")
def drifted(lab):
    scheduled_check(lab)  # a clean run to compare with
    lab.sh(EDITED, HAND_EDIT)
    return scheduled_check(lab)


@pytest.fixture(scope="module")
def repaired(lab, drifted):
    code, run = lab.fab("-H", EDITED, "bootstrap")
    assert code == 0, run.output
    return scheduled_check(lab)


def test_the_timer_is_active_on_the_ops_host(lab):
    timers = lab.sh(ops_host(lab), f"systemctl list-timers --all --no-pager {UNIT}.timer")
    assert f"{UNIT}.timer" in timers
    assert lab.sh(ops_host(lab), f"systemctl is-active {UNIT}.timer").strip() == "active"


def test_a_hand_edit_shows_in_the_ops_hosts_report(drifted):
    host = drifted["latest"]["hosts"][EDITED]
    assert drifted["latest"]["exit_code"] == 2
    assert [c["resource"] for c in host["changes"]] == ["file /etc/hosts"]


def test_a_hand_edit_shows_in_the_metrics_for_that_host_only(drifted):
    metrics = drifted["metrics"]
    assert metrics[("fleetfab_drift_host_resources_drifting", EDITED)] == 1
    assert metrics[("fleetfab_drift_host_checked", EDITED)] == 1
    others = [host for (name, host), value in metrics.items()
              if name == "fleetfab_drift_host_resources_drifting" and host != EDITED and value]
    assert others == []


def test_the_notification_ran_with_the_change(drifted):
    notified = drifted["notified"]
    assert notified is not None, "the notification command did not run"
    assert [(e["host"], e["event"]) for e in notified["events"]] == [(EDITED, "drift_appeared")]


def test_after_the_operators_bootstrap_the_next_scheduled_check_is_clean(repaired):
    assert repaired["latest"]["exit_code"] == 0
    assert repaired["metrics"][("fleetfab_drift_host_resources_drifting", EDITED)] == 0


def test_the_clearing_is_notified_too(repaired):
    assert [(e["host"], e["event"]) for e in repaired["notified"]["events"]] == [(EDITED, "drift_cleared")]


def test_the_ops_hosts_copy_of_the_inventory_refuses_to_apply(lab):
    command = (f"cd /tmp && runuser -u fleetfab -- env FLEETFAB_INVENTORY={INVENTORY} {VENV}/bin/python -c "
               "'from fleetfab.cli import commands; raise SystemExit(commands.bootstrap(None))' 2>&1; echo exit=$?")
    out = lab.sh(ops_host(lab), command)
    assert "run.read_only: this inventory only checks hosts" in out and out.strip().endswith("exit=1")
