"""How run_fleet schedules hosts: connections open only while a host is worked on, and no wait can deadlock."""

from __future__ import annotations

import threading
import time

import pytest

from fleetfab import runner
from fleetfab.report.model import HostReport
from fleetfab.role import Export, Role
from fleetfab.runner import RunOptions, run_fleet


class Publisher(Role):
    name = "publisher"

    def exports(self, ctx):
        return {"key": Export("cat /key")}


class Consumer(Role):
    name = "consumer"


ROLES = {"publisher": Publisher(), "consumer": Consumer()}


class FakeRun:
    """A HostRun that connects nowhere: it counts open connections and waits for publishers like the real one."""

    lock = threading.Lock()
    open_now = 0
    most_open = 0
    seen: dict[str, list[str]] = {}

    def __init__(self, inventory, host, roles, redactor, view, apply, force=False, stop=None):
        self.publishers = [h.name for h in inventory.hosts.values() if "publisher" in h.roles]
        self.host = host
        self.report = HostReport(host.name)
        self.opened = False

    alive = True

    def timed(self, work):
        work()

    def open(self, lock, purpose):
        with FakeRun.lock:
            FakeRun.open_now += 1
            FakeRun.most_open = max(FakeRun.most_open, FakeRun.open_now)
        self.opened = True

    def prepare(self, book):
        if "publisher" in self.host.roles:
            book.put(self.host.name, "publisher", "key", f"value of {self.host.name}")

    def read_exports(self, book):
        self.prepare(book)

    def converge(self, book):
        if "consumer" in self.host.roles:
            # waits until that publisher settled, as a role asking for its export does
            FakeRun.seen[self.host.name] = [book.lookup(name, "publisher", "key")[0] for name in self.publishers]
        time.sleep(0.01)

    def write_journal(self):
        pass

    def close(self):
        if self.opened:
            with FakeRun.lock:
                FakeRun.open_now -= 1
            self.opened = False


@pytest.fixture
def fake_runs(monkeypatch):
    monkeypatch.setattr(runner, "HostRun", FakeRun)
    FakeRun.open_now = FakeRun.most_open = 0
    FakeRun.seen = {}
    return FakeRun


def inventory_of(load, consumers: int, publishers: int = 0):
    hosts = "".join(f"  c{i}: {{address: 127.0.0.1, port: {2000 + i}, groups: [consumers]}}\n" for i in range(consumers))
    hosts += "".join(f"  pub{i + 1}: {{address: 127.0.0.1, port: {3000 + i}, groups: [publishers]}}\n" for i in range(publishers))
    return load(
        "groups:\n  consumers: {roles: [consumer]}\n  publishers: {roles: [publisher]}\n"
        f"hosts:\n{hosts}",
        roles=ROLES,
    )


@pytest.fixture
def load(write_inventory):
    from fleetfab.inventory import load_inventory

    return lambda text, roles: load_inventory(write_inventory(text), roles=roles)


def run_bounded(inventory, hosts, parallel, seconds=20):
    """run_fleet in a thread: a deadlock fails the test instead of hanging it."""
    done = {}
    worker = threading.Thread(target=lambda: done.setdefault("result", run_fleet(
        inventory, hosts, RunOptions(apply=False, purpose="drift", parallel=parallel), runner._Quiet(), roles=ROLES)), daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), "run_fleet did not finish: a host waited for a worker it held"
    return done["result"]


def test_a_fleet_that_publishes_nothing_holds_at_most_parallel_connections(fake_runs, load):
    inventory = inventory_of(load, consumers=30)
    result = run_bounded(inventory, inventory.select(None), parallel=4)
    assert len(result.reports) == 30
    assert fake_runs.most_open <= 4
    assert fake_runs.open_now == 0


def test_consumers_waiting_for_publishers_in_the_run_never_deadlock(fake_runs, load):
    inventory = inventory_of(load, consumers=10, publishers=2)
    result = run_bounded(inventory, inventory.select(None), parallel=1)
    assert len(result.reports) == 12
    assert fake_runs.seen == {f"c{i}": ["value of pub1", "value of pub2"] for i in range(10)}
    assert fake_runs.open_now == 0


def test_publishers_outside_the_run_are_read_before_any_host_waits_for_them(fake_runs, load):
    inventory = inventory_of(load, consumers=5, publishers=2)
    run_bounded(inventory, inventory.select("consumers"), parallel=1)
    assert fake_runs.seen == {f"c{i}": ["value of pub1", "value of pub2"] for i in range(5)}
