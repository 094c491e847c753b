"""The rolling procedure's order, without hosts: batches one after another, the first failure stops
everything, the hosts after it are untouched; a rebooted host is waited for until it answers from a new boot."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from fleetfab.upgrade import reboot, rolling
from fleetfab.upgrade.procedure import Outcome, Stopped


class FakeProcedure:
    """What run_batches needs of a Procedure: outcomes, record, the consoles, an outcome table."""

    purpose = "upgrade"

    def __init__(self, names):
        self.selected = [type("H", (), {"name": n})() for n in names]
        self.inventory = type("I", (), {"hosts": {n: None for n in names}})()
        self.outcomes = {n: Outcome() for n in names}
        self.recorded = []
        self.out = Console(file=io.StringIO(), width=200)
        self.err = Console(file=io.StringIO(), width=200)

    def record(self, name, summary, failed):
        self.recorded.append((name, failed))

    def outcome_table(self, title):
        return "\n".join(f"{n}: {o.status}" for n, o in self.outcomes.items())


def test_the_first_failed_host_stops_the_upgrade_and_the_hosts_after_it_stay_untouched(monkeypatch):
    upgraded = []

    def upgrade_batch(proc, names, timeout, guests_down):
        if "mail2" in names:
            raise Stopped("mail2", "after: unhealthy: failed units: x.service")
        upgraded.extend(names)

    monkeypatch.setattr(rolling, "upgrade_batch", upgrade_batch)
    proc = FakeProcedure(["worker2", "mail2", "edge1"])
    code = rolling.run_batches(proc, [["worker2"], ["mail2"], ["edge1"]], 600, False)
    assert code == 1 and upgraded == ["worker2"]
    assert proc.outcomes["edge1"].status == "untouched"
    assert proc.outcomes["mail2"].status.startswith("stopped here: after: unhealthy")
    assert proc.recorded == [("worker2", False), ("mail2", True)]
    said = proc.err.file.getvalue()
    assert "upgrade stopped at mail2: after: unhealthy" in said and "untouched: edge1" in said


def test_a_host_outside_the_selection_that_fails_a_step_stops_the_batch_it_served(monkeypatch):
    def upgrade_batch(proc, names, timeout, guests_down):
        raise Stopped("cp1", "out of service: kubectl drain failed")

    monkeypatch.setattr(rolling, "upgrade_batch", upgrade_batch)
    proc = FakeProcedure(["worker1", "worker2"])
    assert rolling.run_batches(proc, [["worker1"], ["worker2"]], 600, False) == 1
    assert proc.outcomes["worker1"].status == "stopped with its batch (at cp1)"
    assert proc.outcomes["worker2"].status == "untouched"


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_a_rebooted_host_is_waited_for_until_it_answers_from_a_new_boot(monkeypatch):
    answers = iter([OSError("Connection refused"), reboot._StillOld(), "running"])

    def check_once(inventory, host, before, step):
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(reboot, "_check_once", check_once)
    clock = Clock()
    host = type("H", (), {"name": "worker2"})()
    assert reboot.wait_until_back(None, host, "old", 600, sleep=clock.sleep, clock=clock) == "running"


def test_a_host_that_does_not_come_back_in_time_stops_the_upgrade_saying_so(monkeypatch):
    def check_once(inventory, host, before, step):
        raise OSError("Connection refused")

    monkeypatch.setattr(reboot, "_check_once", check_once)
    clock = Clock()
    host = type("H", (), {"name": "mail2"})()
    with pytest.raises(reboot.NotBack) as stopped:
        reboot.wait_until_back(None, host, "old", 30, sleep=clock.sleep, clock=clock)
    assert "mail2 did not come back within 30 s" in str(stopped.value) and "Connection refused" in str(stopped.value)


def test_a_boot_marker_must_be_a_boot_id_and_a_start_time():
    assert reboot.marker_of("0b6c3c0e-8d1c-4a59-9d4e-5a0f4f1b2c3d\n1470156\n") is not None
    assert reboot.marker_of("0b6c3c0e-8d1c-4a59-9d4e-5a0f4f1b2c3d\n\x1b[2J\n") is None


def test_an_upgrade_step_leaves_the_read_side_to_the_converge_that_ends_every_changed_host(monkeypatch):
    """A refresh after each step would read the whole host between apt's steps (and the run
    holding it would stand in the next step's way); the final converge writes the read-outs."""
    from types import SimpleNamespace

    from fleetfab.upgrade import procedure as module

    seen = []
    monkeypatch.setattr(module, "run_fleet", lambda inventory, hosts, options, view, roles: seen.append(options))
    proc = module.Procedure(SimpleNamespace(parallel=4), [], "release-upgrade --to trixie", out=None, err=None)
    proc.run("install", [], {}, apply=True)
    assert [options.refresh_read_side for options in seen] == [False]
