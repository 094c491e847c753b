"""The textfile for node_exporter, read back with prometheus_client's own parser of the text format."""

import os
import stat

from prometheus_client.parser import text_string_to_metric_families

from fleetfab.scheduled import metrics
from fleetfab.scheduled.documents import missing_report
from tests.unit.test_scheduled_documents import FINISHED_SECONDS, document, host, stale_document

HOSTS_FILE, SSH_SERVICE = "file /etc/hosts", "service ssh"


def families(text: str) -> dict:
    return {family.name: family for family in text_string_to_metric_families(text)}


def values(text: str, name: str) -> dict:
    """The samples of one metric, by their `host` (or `status`) label; '' for a metric without labels."""
    samples = families(text)[f"fleetfab_drift_{name}"].samples
    return {s.labels.get("host", s.labels.get("status", "")): s.value for s in samples}


def rendered(*reports, last_success=None, duration=1.5, notification=None) -> str:
    return metrics.render(document(*reports), last_success or {}, duration, notification)


def test_every_metric_is_a_documented_gauge():
    parsed = families(rendered(host("a"), last_success={"a": 1}, notification={"ok": True, "at": 1}))
    assert {(f.type, bool(f.documentation)) for f in parsed.values()} == {("gauge", True)}


def test_a_read_host_is_checked_and_an_unreachable_one_is_not():
    assert values(rendered(host("a"), host("b", error="unreachable")), "host_checked") == {"a": 1, "b": 0}


def test_failed_hosts_are_marked():
    text = rendered(host("a"), host("b", error="unreachable"), host("c", blocked=("file x: needs a",)))
    assert values(text, "host_failed") == {"a": 0, "b": 1, "c": 1}


def test_drifting_resources_are_counted_per_host():
    assert values(rendered(host("a"), host("b", HOSTS_FILE, SSH_SERVICE)), "host_resources_drifting") == {"a": 0, "b": 2}


def test_blocked_resources_are_counted_per_host():
    assert values(rendered(host("a", blocked=("x", "y"))), "host_resources_blocked") == {"a": 2}


def test_each_host_has_its_check_duration():
    assert values(rendered(host("a")), "host_check_duration_seconds") == {"a": 0.5}


def test_the_last_success_is_given_in_unix_seconds():
    text = rendered(host("a"), host("b", error="unreachable"), last_success={"a": FINISHED_SECONDS, "b": 100})
    assert values(text, "host_last_success_timestamp_seconds") == {"a": FINISHED_SECONDS, "b": 100}


def test_a_host_never_checked_has_no_last_success():
    text = rendered(host("a"), host("b", error="unreachable"), last_success={"a": FINISHED_SECONDS})
    assert "b" not in values(text, "host_last_success_timestamp_seconds")


def test_hosts_are_counted_by_status_including_the_empty_ones():
    assert values(rendered(host("a"), host("b", HOSTS_FILE)), "hosts") == {"ok": 1, "changed": 1, "failed": 0, "stale": 0}


def test_a_host_checked_against_a_stale_copy_is_marked_and_not_counted_as_drifting():
    text = metrics.render(stale_document(host("a"), host("b", HOSTS_FILE), stale=("b",)), {}, 1.0)
    assert (values(text, "host_stale_copy"), values(text, "host_resources_drifting")) == ({"a": 0, "b": 1}, {"a": 0, "b": 0})


def test_a_stale_copy_is_said_for_the_run_as_a_whole_with_its_own_exit_code():
    text = metrics.render(stale_document(host("a"), host("b", HOSTS_FILE), stale=("b",)), {}, 1.0)
    assert (values(text, "copy_stale"), values(text, "run_exit_code"), values(rendered(host("a")), "copy_stale")) == (
        {"": 1}, {"": 3}, {"": 0})


def test_the_run_has_its_duration():
    assert values(rendered(host("a"), duration=12.25), "run_duration_seconds") == {"": 12.25}


def test_the_run_has_its_finished_time():
    assert values(rendered(host("a")), "run_finished_timestamp_seconds") == {"": FINISHED_SECONDS}


def test_the_run_has_drifts_exit_code():
    assert values(rendered(host("a", HOSTS_FILE)), "run_exit_code") == {"": 2}


def test_a_run_without_a_report_says_so():
    text = metrics.render(missing_report(document(host("a")), "bad inventory", 1), {}, 0.2)
    assert (values(text, "run_report_written"), values(text, "host_checked")) == ({"": 0}, {"a": 0})


def test_a_run_with_a_report_says_so():
    assert values(rendered(host("a")), "run_report_written") == {"": 1}


def test_the_last_notification_is_shown_once_there_was_one():
    text = rendered(host("a"), notification={"ok": False, "at": 1700000000.5})
    assert (values(text, "notification_ok"), values(text, "notification_timestamp_seconds")) == (
        {"": 0}, {"": 1700000000.5})


def test_no_notification_metric_before_the_first_notification():
    assert "fleetfab_drift_notification_ok" not in families(rendered(host("a")))


def test_host_names_are_escaped_in_labels():
    awkward = 'we"ird\\host\nname'
    assert list(values(rendered(host(awkward)), "host_checked")) == [awkward]


def test_the_file_is_prometheus_clients_own_textfile(tmp_path):
    """Written by prometheus_client's textfile writer, so its format and escapes are the library's."""
    from prometheus_client import generate_latest

    registry = metrics.collect(document(host("a")), {}, 1.0)
    assert metrics.write(tmp_path, registry).read_bytes() == generate_latest(registry)


def test_an_empty_fleet_still_has_the_run_metrics():
    assert values(metrics.render(document(), {}, 0.1), "run_exit_code") == {"": 0}


def registry(*reports):
    return metrics.collect(document(*reports), {}, 1.5)


def test_the_file_is_written_under_its_collector_name(tmp_path):
    assert metrics.write(tmp_path, registry(host("a"))).name == "fleetfab_drift.prom"


def test_the_file_is_readable_by_node_exporters_user_whatever_the_umask(tmp_path):
    old = os.umask(0o077)
    try:
        path = metrics.write(tmp_path, registry(host("a")))
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) & 0o044 == 0o044


def test_only_the_finished_file_is_left_for_the_collector(tmp_path):
    metrics.write(tmp_path, registry(host("a")))
    metrics.write(tmp_path, registry(host("b")))
    assert [p.name for p in tmp_path.iterdir()] == ["fleetfab_drift.prom"]
