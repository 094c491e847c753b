"""Change detection between two scheduled runs: only transitions are news."""

import json

from fleetfab.scheduled.changes import compare
from fleetfab.scheduled.documents import missing_report
from tests.unit.test_scheduled_documents import FINISHED, document, host, stale_document

LATER = "2026-11-22T03:15:00Z"
HOSTS_FILE, SSH_SERVICE = "file /etc/hosts", "service ssh"


def events(previous, current) -> list[tuple]:
    return [(e["host"], e["event"]) for e in compare(previous, current)["events"]]


def only_event(previous, current) -> dict:
    (event,) = compare(previous, current)["events"]
    return event


def test_two_identical_runs_make_an_empty_change():
    change = compare(document(host("a", HOSTS_FILE)), document(host("a", HOSTS_FILE), finished=LATER))
    assert (change["changed"], change["events"], change["run_event"]) == (False, [], None)


def test_the_same_drift_with_another_summary_is_no_news():
    before, after = document(host("a", HOSTS_FILE)), document(host("a", HOSTS_FILE))
    after["hosts"]["a"]["changes"][0]["summary"] = "certificate expires in 28 days"
    assert not compare(before, after)["changed"]


def test_drift_appearing_names_the_drifting_resources():
    event = only_event(document(host("a")), document(host("a", HOSTS_FILE)))
    assert (event["event"], [r["resource"] for r in event["resources"]]) == ("drift_appeared", [HOSTS_FILE])


def test_a_drifting_resource_is_described_without_its_diff():
    event = only_event(document(host("a")), document(host("a", HOSTS_FILE)))
    assert event["resources"] == [{"resource": HOSTS_FILE, "role": "base", "action": "update", "summary": "content"}]


def test_drift_clearing_names_the_resources_that_stopped_drifting():
    event = only_event(document(host("a", HOSTS_FILE)), document(host("a")))
    assert (event["event"], [r["resource"] for r in event["resources"]]) == ("drift_cleared", [HOSTS_FILE])


def test_drift_moving_to_other_resources_tells_which_appeared_and_which_went():
    event = only_event(document(host("a", HOSTS_FILE)), document(host("a", SSH_SERVICE)))
    assert (event["event"], [r["resource"] for r in event["appeared"]], [r["resource"] for r in event["cleared"]]) == (
        "drift_changed", [SSH_SERVICE], [HOSTS_FILE])


def test_an_added_drifting_resource_is_a_drift_change():
    event = only_event(document(host("a", HOSTS_FILE)), document(host("a", HOSTS_FILE, SSH_SERVICE)))
    assert (event["event"], [r["resource"] for r in event["appeared"]], event["cleared"]) == (
        "drift_changed", [SSH_SERVICE], [])


def test_a_host_becoming_unreachable_fails_with_its_error():
    event = only_event(document(host("a")), document(host("a", error="unreachable: timed out")))
    assert (event["event"], event["error"]) == ("failed", "unreachable: timed out")


def test_an_unreachable_drifting_host_does_not_clear_its_drift():
    assert events(document(host("a", HOSTS_FILE)), document(host("a", error="unreachable"))) == [("a", "failed")]


def test_a_blocked_resource_fails_the_host_and_names_it():
    event = only_event(document(host("a")), document(host("a", blocked=("file /etc/wg0.conf: needs b's key",))))
    assert (event["event"], event["blocked"]) == ("failed", ["file /etc/wg0.conf: needs b's key"])


def test_a_host_still_unreachable_is_no_news():
    assert not compare(document(host("a", error="unreachable")), document(host("a", error="timed out")))["changed"]


def test_a_host_coming_back_clean_recovered():
    event = only_event(document(host("a", error="unreachable")), document(host("a")))
    assert (event["event"], event["drifting"]) == ("recovered", [])


def test_a_host_coming_back_with_drift_says_what_drifts():
    event = only_event(document(host("a", error="unreachable")), document(host("a", HOSTS_FILE)))
    assert (event["event"], [r["resource"] for r in event["drifting"]]) == ("recovered", [HOSTS_FILE])


def test_a_host_new_to_the_selection_is_added():
    assert events(document(host("a")), document(host("a"), host("b"))) == [("b", "added")]


def test_a_host_added_with_drift_is_added_and_drifting():
    assert events(document(host("a")), document(host("a"), host("b", HOSTS_FILE))) == [
        ("b", "added"), ("b", "drift_appeared")]


def test_a_host_left_out_of_the_selection_is_removed():
    assert events(document(host("a"), host("b", HOSTS_FILE)), document(host("a"))) == [("b", "removed")]


def test_a_clean_first_run_is_no_news():
    change = compare(None, document(host("a"), host("b")))
    assert (change["changed"], change["first_run"], change["previous"]) == (False, True, None)


def test_a_first_run_with_drift_reports_it_without_added_events():
    assert events(None, document(host("a"), host("b", HOSTS_FILE))) == [("b", "drift_appeared")]


def test_a_first_run_with_an_unreachable_host_reports_it():
    assert events(None, document(host("a", error="unreachable"))) == [("a", "failed")]


def test_events_come_in_host_order():
    previous = document(host("a"), host("b"), host("c"))
    current = document(host("c", HOSTS_FILE), host("a", error="x"), host("b"))
    assert events(previous, current) == [("a", "failed"), ("c", "drift_appeared")]


def test_the_change_carries_both_runs_times_and_exit_codes():
    change = compare(document(host("a")), document(host("a", HOSTS_FILE), finished=LATER))
    assert (change["previous"], change["current"]) == (
        {"finished": FINISHED, "exit_code": 0}, {"finished": LATER, "exit_code": 2})


def test_a_run_without_a_report_is_a_run_event():
    previous = document(host("a"))
    change = compare(previous, missing_report(previous, "drift exited 1 without writing a report", 1))
    assert (change["run_event"], change["current"]["error"], [e["event"] for e in change["events"]]) == (
        "report_missing", "drift exited 1 without writing a report", ["failed"])


def test_a_first_run_without_a_report_still_notifies():
    assert compare(None, missing_report(None, "bad inventory", 1))["changed"]


def test_the_report_coming_back_is_a_run_event():
    stand_in = missing_report(document(host("a")), "bad inventory", 1)
    assert compare(stand_in, document(host("a")))["run_event"] == "report_back"


def test_two_runs_without_a_report_are_no_news():
    stand_in = missing_report(document(host("a")), "bad inventory", 1)
    assert not compare(stand_in, missing_report(stand_in, "bad inventory", 1))["changed"]


def test_the_summary_names_host_and_event():
    change = compare(document(host("a")), document(host("a", HOSTS_FILE)))
    assert change["summary"] == "a: drift appeared: file /etc/hosts"


def test_an_empty_change_says_so_in_its_summary():
    assert compare(document(host("a")), document(host("a")))["summary"] == "no change since the previous run"


def test_the_summary_stays_short_when_the_whole_fleet_changes():
    names = [f"h{n:02d}" for n in range(20)]
    summary = compare(document(*map(host, names)), document(*(host(n, error="x") for n in names)))["summary"]
    assert summary.endswith("and 15 more event(s)")


def test_the_change_document_is_json():
    change = compare(document(host("a", HOSTS_FILE)), document(host("a", SSH_SERVICE), host("b", error="x")))
    assert json.loads(json.dumps(change)) == change


# -- a copy older than a host's last bootstrap -------------------------------------


def test_a_drifting_host_found_bootstrapped_from_a_newer_inventory_is_a_stale_copy_not_drift():
    event = only_event(document(host("a")), stale_document(host("a", HOSTS_FILE), stale=("a",)))
    assert (event["event"], event["bootstrapped"]) == ("stale_copy", FINISHED)


def test_a_drift_known_before_is_not_cleared_by_a_stale_copy():
    assert events(document(host("a", HOSTS_FILE)), stale_document(host("a", HOSTS_FILE), stale=("a",))) == [("a", "stale_copy")]


def test_a_host_judged_again_after_a_stale_copy_says_what_drifts_now():
    event = only_event(stale_document(host("a", HOSTS_FILE), stale=("a",)), document(host("a", HOSTS_FILE)))
    assert (event["event"], [r["resource"] for r in event["drifting"]]) == ("copy_current", [HOSTS_FILE])


def test_the_summary_says_the_copy_is_older_and_that_drift_is_not_judged():
    change = compare(document(host("a")), stale_document(host("a", HOSTS_FILE), stale=("a",)))
    assert "copy of the inventory is older than this host's last bootstrap" in change["summary"]
    assert "drift not judged until the ops host is bootstrapped" in change["summary"]
