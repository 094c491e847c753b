"""Guests in a run: each starts once its VM host is done, and not at all if that host failed."""

from __future__ import annotations

import pytest

from fleetfab import runner
from fleetfab.role import Role
from fleetfab.runner import RunOptions, run_fleet
from tests.unit.test_runner_scheduling import FakeRun

EVENTS: list[str] = []


class Hypervisor(Role):
    name = "hyper"

    def gateways(self, inventory):
        return {}


ROLES = {"hyper": Hypervisor()}


class GuestAwareRun(FakeRun):
    fail = frozenset()

    def __init__(self, inventory, host, *args, **kwargs):
        super().__init__(inventory, host, *args, **kwargs)
        self.await_boot = False

    def open(self, lock, purpose):
        EVENTS.append(f"open {self.host.name}{' (boot)' if self.await_boot else ''}")
        super().open(lock, purpose)

    def converge(self, book):
        if self.host.name in self.fail:
            self.report.error = "it broke"
        EVENTS.append(f"done {self.host.name}")

    def started_guest(self, name):
        return True


@pytest.fixture
def runs(monkeypatch):
    monkeypatch.setattr(runner, "HostRun", GuestAwareRun)
    EVENTS.clear()
    GuestAwareRun.fail = frozenset()
    return GuestAwareRun


@pytest.fixture
def fleet(write_inventory):
    from fleetfab.inventory import load_inventory

    # the guest is written first: its VM host must still go first
    text = """
        hosts:
          g1: {address: 198.18.100.11, vm: {host: hv1}}
          hv1: {address: 198.18.0.51, roles: [hyper]}
          other: {address: 198.18.0.52}
    """
    return load_inventory(write_inventory(text), roles=ROLES)


def run(inventory, apply=True, parallel=1):
    options = RunOptions(apply=apply, purpose="bootstrap" if apply else "drift", parallel=parallel)
    return {r.host: r for r in run_fleet(inventory, inventory.select(None), options, runner._Quiet(), roles=ROLES).reports}


def test_a_guest_opens_only_after_its_vm_host_is_done_even_with_one_worker(runs, fleet):
    run(fleet, parallel=1)
    assert EVENTS.index("done hv1") < EVENTS.index("open g1 (boot)")


def test_a_guest_whose_vm_host_failed_is_not_started_and_says_why(runs, fleet):
    runs.fail = frozenset({"hv1"})
    reports = run(fleet)
    assert reports["g1"].error == "not started: its VM host hv1 failed (it broke)"
    assert not any(e.startswith("open g1") for e in EVENTS)
    assert reports["other"].error == ""


def test_a_drift_never_waits_for_a_guest_to_boot(runs, fleet):
    run(fleet, apply=False)
    assert "open g1" in EVENTS and "open g1 (boot)" not in EVENTS
