"""The state directory: latest.json, its history, the change documents and the last successful checks."""

import pytest

from fleetfab.scheduled.state import Busy, StateDir, updated_last_success
from tests.unit.test_scheduled_documents import FINISHED, FINISHED_SECONDS, document, host

LATER = "2026-11-22T03:15:00Z"


def test_a_new_state_directory_has_no_latest_report(tmp_path):
    assert StateDir(tmp_path).latest() is None


def test_the_stored_report_becomes_the_latest(tmp_path):
    state = StateDir(tmp_path)
    state.store_report(document(host("a")))
    assert state.latest() == document(host("a"))


def test_the_replaced_report_goes_into_the_history(tmp_path):
    state = StateDir(tmp_path)
    state.store_report(document(host("a"), finished=FINISHED))
    state.store_report(document(host("a"), finished=LATER))
    assert [d["finished"] for d in state.reports()] == [FINISHED]


def test_the_history_holds_only_earlier_reports(tmp_path):
    state = StateDir(tmp_path)
    state.store_report(document(host("a")))
    assert state.reports() == []


def test_the_history_keeps_the_newest_n(tmp_path):
    state = StateDir(tmp_path, keep=2)
    for minute in range(5):
        state.store_report(document(host("a"), finished=f"2026-11-22T03:0{minute}:00Z"))
    assert [d["finished"] for d in state.reports()] == ["2026-11-22T03:03:00Z", "2026-11-22T03:02:00Z"]


def test_a_damaged_latest_report_reads_as_none(tmp_path):
    (tmp_path / "latest.json").write_text("{not json")
    assert StateDir(tmp_path).latest() is None


def test_the_latest_change_is_kept_even_when_nothing_changed(tmp_path):
    state = StateDir(tmp_path)
    state.store_change({"changed": False, "events": []})
    assert state.latest_change() == {"changed": False, "events": []}


def test_only_real_changes_enter_the_change_history(tmp_path):
    state = StateDir(tmp_path)
    state.store_change({"changed": True, "current": {"finished": FINISHED}, "events": [{"host": "a"}]})
    state.store_change({"changed": False, "current": {"finished": LATER}, "events": []})
    assert [c["current"]["finished"] for c in state.changes()] == [FINISHED]


def test_a_successful_check_records_the_report_time(tmp_path):
    assert StateDir(tmp_path).record_checks(document(host("a", "file /etc/hosts"))) == {"a": FINISHED_SECONDS}


def test_a_failed_check_carries_the_last_success_over():
    failed_now = document(host("a", error="unreachable"), finished=LATER)
    assert updated_last_success({"a": 100}, failed_now) == {"a": 100}


def test_a_host_never_checked_has_no_last_success():
    assert updated_last_success({}, document(host("a", error="unreachable"))) == {}


def test_a_host_with_a_blocked_resource_is_not_a_success():
    assert updated_last_success({}, document(host("a", blocked=("file x: needs b",)))) == {}


def test_a_host_that_left_the_selection_is_forgotten():
    assert updated_last_success({"gone": 100}, document(host("a"))) == {"a": FINISHED_SECONDS}


def test_last_successes_survive_to_the_next_run(tmp_path):
    StateDir(tmp_path).record_checks(document(host("a")))
    assert StateDir(tmp_path).last_success() == {"a": FINISHED_SECONDS}


def test_a_second_run_cannot_take_the_directory(tmp_path):
    with StateDir(tmp_path).locked():
        with pytest.raises(Busy):
            with StateDir(tmp_path).locked():
                pass


def test_the_directory_is_free_again_after_a_run(tmp_path):
    with StateDir(tmp_path).locked():
        pass
    with StateDir(tmp_path).locked():
        pass
