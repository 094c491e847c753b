"""Hosts another fleetfab run held are checked again within the same scheduled run, not reported failed."""

import json

from fleetfab.scheduled import retry
from fleetfab.scheduled.run import Settings, scheduled_run
from fleetfab.scheduled.state import StateDir
from tests.unit.test_scheduled_documents import document, host

#: the words a drift report carries for a host in the middle of a bootstrap (fleetfab.hostrun)
HELD = "another fleetfab run holds the lock on this host: bootstrap by ops@laptop (pid 4242) since 2026-11-22T02:59:50Z"
GUEST_HELD = f"not started: its VM host hv1 failed ({HELD})"


class Drifts:
    """A drift check answering with canned documents, and recording which hosts each try asked for."""

    def __init__(self, *documents):
        self.documents, self.asked = list(documents), []

    def __call__(self, json_path, hosts=None):
        self.asked.append(hosts)
        doc = self.documents.pop(0)
        json_path.write_text(json.dumps(doc))
        return doc["exit_code"]


def no_wait(seconds):
    pass


def test_a_held_host_and_the_guest_it_held_back_are_the_ones_checked_again():
    doc = document(host("hv1", error=HELD), host("g1", error=GUEST_HELD), host("a"), host("b", error="unreachable"))
    assert retry.locked_hosts(doc) == ["g1", "hv1"]


def test_the_new_entries_replace_the_held_ones_and_the_exit_code_is_recounted():
    merged = retry.merge(document(host("hv1", error=HELD), host("a")), document(host("hv1", "file /etc/hosts")))
    assert (merged["hosts"]["hv1"]["status"], merged["exit_code"], merged["totals"]["hosts_failed"]) == ("changed", 2, 0)


def test_a_host_still_held_after_every_try_stays_failed():
    tries = []
    held = document(host("hv1", error=HELD))
    found = retry.check_again(held, lambda names: tries.append(names) or document(host("hv1", error=HELD)), None, sleep=no_wait)
    assert (len(tries), found["exit_code"]) == (retry.TRIES, 1)


def test_no_try_goes_past_the_runs_own_deadline():
    tries = []
    retry.check_again(document(host("hv1", error=HELD)), lambda names: tries.append(names), deadline=10.0, wait=20.0,
                      clock=lambda: 0.0, sleep=no_wait)
    assert tries == []


def test_a_scheduled_run_checks_the_held_hosts_again_and_records_them_as_found(tmp_path, monkeypatch):
    monkeypatch.setattr(retry, "WAIT", 0.0)
    drifts = Drifts(document(host("hv1", error=HELD), host("g1", error=GUEST_HELD), host("a")),
                    document(host("hv1"), host("g1")))
    code = scheduled_run(Settings(state_dir=tmp_path / "state"), drift=drifts)
    latest = StateDir(tmp_path / "state").latest()
    assert (code, drifts.asked, sorted(e["status"] for e in latest["hosts"].values())) == (0, [None, "g1,hv1"], ["ok"] * 3)


def test_a_fleet_nobody_holds_is_checked_once(tmp_path):
    drifts = Drifts(document(host("a")))
    scheduled_run(Settings(state_dir=tmp_path / "state"), drift=drifts)
    assert drifts.asked == [None]
