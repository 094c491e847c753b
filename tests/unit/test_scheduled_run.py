"""One scheduled run end to end, with the drift check and the notifier injected: no host, no SSH.

The notification is the notification unit's (fleetfab.scheduled.send), run
after each check as systemd's OnSuccess= would; here, right after it.
"""

import json
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from fleetfab.scheduled import __main__ as cli
from fleetfab.scheduled.check import DidNotFinish
from fleetfab.scheduled.outbox import last_outcome
from fleetfab.scheduled.run import Settings, scheduled_run
from fleetfab.scheduled.send import send
from fleetfab.scheduled.state import Busy, StateDir
from tests.unit.test_scheduled_documents import FINISHED_SECONDS, document, host

HOSTS_FILE = "file /etc/hosts"
NOTIFY = "notify-operators"


def at(minute: int) -> str:
    return f"2026-11-22T03:{minute:02d}:00Z"


class Fleet:
    """A drift check that writes the next canned document, as `fab drift --json` would."""

    def __init__(self, *documents):
        self.documents = list(documents)

    def __call__(self, json_path):
        doc = self.documents.pop(0)
        json_path.write_text(json.dumps(doc))
        return doc["exit_code"]


class Notifier:
    """Records every change it is given, and answers as told."""

    def __init__(self, ok=True):
        self.changes, self.ok = [], ok

    def __call__(self, command, change, timeout):
        self.changes.append((command, change))
        return {"at": 1, "ok": self.ok, "exit_code": 0 if self.ok else 1, "error": None if self.ok else "exited 1"}


@pytest.fixture
def settings(tmp_path):
    return Settings(state_dir=tmp_path / "state", textfile_dir=tmp_path / "textfile", keep=3,
                    outbox=tmp_path / "outbox", notify_state=tmp_path / "notify")


def then_notify(settings, notifier):
    """The notification unit after a check: the notice left in the outbox, if any, to the command."""
    if settings.outbox is not None:
        send(settings.outbox, settings.notify_state, NOTIFY, notifier=notifier or Notifier())


def run(settings, *documents, notifier=None, **kwargs) -> int:
    code = scheduled_run(settings, drift=Fleet(*documents), **kwargs)
    then_notify(settings, notifier)
    return code


def check(settings, drift, notifier=None) -> int:
    code = scheduled_run(settings, drift=drift)
    then_notify(settings, notifier)
    return code


def runs(settings, *documents, notifier=None) -> list[int]:
    return [run(settings, doc, notifier=notifier) for doc in documents]


def prom(settings, name: str) -> dict:
    text = (settings.textfile_dir / "fleetfab_drift.prom").read_text()
    samples = {f.name: f.samples for f in text_string_to_metric_families(text)}.get(f"fleetfab_drift_{name}", [])
    return {s.labels.get("host", ""): s.value for s in samples}


def test_a_run_returns_drifts_exit_code(settings):
    assert runs(settings, document(host("a")), document(host("a", HOSTS_FILE))) == [0, 2]


def test_a_run_keeps_drifts_report_as_the_latest(settings):
    run(settings, document(host("a", HOSTS_FILE)))
    assert StateDir(settings.state_dir).latest() == document(host("a", HOSTS_FILE))


def test_earlier_reports_go_into_the_bounded_history(settings):
    runs(settings, *(document(host("a"), finished=at(m)) for m in range(6)))
    assert [d["finished"] for d in StateDir(settings.state_dir).reports()] == [at(4), at(3), at(2)]


def test_a_clean_first_run_notifies_nobody(settings):
    notifier = Notifier()
    run(settings, document(host("a")), notifier=notifier)
    assert notifier.changes == []


def test_a_first_run_with_drift_notifies(settings):
    notifier = Notifier()
    run(settings, document(host("a", HOSTS_FILE)), notifier=notifier)
    assert [e["event"] for e in notifier.changes[0][1]["events"]] == ["drift_appeared"]


def test_drift_appearing_runs_the_inventorys_command_with_the_change(settings):
    notifier = Notifier()
    runs(settings, document(host("a"), finished=at(0)), document(host("a", HOSTS_FILE), finished=at(15)), notifier=notifier)
    ((command, change),) = notifier.changes
    assert (command, change["previous"]["finished"], change["current"]["finished"]) == (NOTIFY, at(0), at(15))


def test_the_same_drift_again_notifies_nobody(settings):
    notifier = Notifier()
    runs(settings, document(host("a", HOSTS_FILE)), document(host("a", HOSTS_FILE)), notifier=notifier)
    assert len(notifier.changes) == 1


def test_without_an_outbox_no_notice_is_left(settings):
    bare = Settings(state_dir=settings.state_dir)
    run(bare, document(host("a", HOSTS_FILE)))
    assert not settings.outbox.exists()


def test_a_notice_is_sent_once_however_often_the_notification_unit_starts(settings):
    notifier = Notifier()
    run(settings, document(host("a", HOSTS_FILE)), notifier=notifier)
    then_notify(settings, notifier)
    assert len(notifier.changes) == 1


def test_the_notice_is_readable_by_the_notification_accounts_group_only(settings):
    run(settings, document(host("a", HOSTS_FILE)))
    assert oct((settings.outbox / "notice.json").stat().st_mode & 0o777) == "0o640"


def test_the_change_is_left_for_drift_status(settings):
    runs(settings, document(host("a")), document(host("a", error="unreachable")))
    assert [e["event"] for e in StateDir(settings.state_dir).latest_change()["events"]] == ["failed"]


def test_a_run_with_no_change_still_says_so_in_changes_json(settings):
    runs(settings, document(host("a")), document(host("a")))
    assert StateDir(settings.state_dir).latest_change()["changed"] is False


def test_a_failing_notification_is_recorded_by_the_notification_account(settings):
    run(settings, document(host("a", HOSTS_FILE)), notifier=Notifier(ok=False))
    assert last_outcome(settings.notify_state)["ok"] is False


def test_the_next_check_shows_how_the_last_notification_went_in_the_metrics(settings):
    runs(settings, document(host("a", HOSTS_FILE)), document(host("a", HOSTS_FILE)), notifier=Notifier(ok=False))
    assert prom(settings, "notification_ok") == {"": 0}


def test_a_notification_outcome_behind_a_link_is_not_read(settings, tmp_path):
    """The folder is the notification account's: a link there must not make the drift account read its own files."""
    settings.notify_state.mkdir()
    (tmp_path / "private.json").write_text('{"ok": true, "at": 5}')
    (settings.notify_state / "notify.json").symlink_to(tmp_path / "private.json")
    run(settings, document(host("a")))
    assert "fleetfab_drift_notification_ok" not in (settings.textfile_dir / "fleetfab_drift.prom").read_text()


def test_the_metrics_describe_the_run(settings):
    run(settings, document(host("a", HOSTS_FILE), host("b")))
    assert prom(settings, "host_resources_drifting") == {"a": 1, "b": 0}


def test_the_run_duration_is_measured_around_the_drift_check(settings):
    ticks = iter([100.0, 107.5])
    run(settings, document(host("a")), timer=lambda: next(ticks))
    assert prom(settings, "run_duration_seconds") == {"": 7.5}


def test_a_host_that_fails_keeps_its_last_successful_check(settings):
    runs(settings, document(host("a"), finished=at(0)), document(host("a", error="unreachable"), finished=at(15)))
    assert prom(settings, "host_last_success_timestamp_seconds") == {"a": FINISHED_SECONDS}


def test_without_a_textfile_directory_no_metrics_are_written(settings, tmp_path):
    run(Settings(state_dir=settings.state_dir), document(host("a")))
    assert not (tmp_path / "textfile").exists()


def test_the_drifts_own_file_is_not_left_in_the_state_directory(settings):
    run(settings, document(host("a")))
    assert sorted(p.name for p in settings.state_dir.iterdir()) == [".lock", "changes.json", "hosts.json", "latest.json"]


def test_a_check_that_writes_no_report_is_recorded_as_failed(settings):
    run(settings, document(host("a")))
    code = check(settings, lambda path: 1)
    latest = StateDir(settings.state_dir).latest()
    assert (code, latest["error"], latest["hosts"]["a"]["status"]) == (
        1, "drift exited 1 without writing a report (see the service log)", "failed")


def test_a_check_that_writes_no_report_notifies(settings):
    notifier = Notifier()
    check(settings, lambda path: 1, notifier)
    assert notifier.changes[0][1]["run_event"] == "report_missing"


def test_a_check_that_writes_no_report_shows_in_the_metrics(settings):
    check(settings, lambda path: 1)
    assert prom(settings, "run_report_written") == {"": 0}


def test_a_check_that_raises_is_a_failed_run(settings):
    def crash(path):
        raise ValueError("unexpected")

    assert check(settings, crash) == 1
    assert StateDir(settings.state_dir).latest()["error"] == "the drift check failed: ValueError"


def test_a_check_killed_at_its_time_limit_says_so(settings):
    def hang(path):
        raise DidNotFinish("drift did not finish within 600s and was killed")

    check(settings, hang)
    assert StateDir(settings.state_dir).latest()["error"] == "drift did not finish within 600s and was killed"


def test_a_run_while_another_holds_the_state_directory_is_refused(settings):
    with StateDir(settings.state_dir).locked():
        with pytest.raises(Busy):
            run(settings, document(host("a")))


def test_the_command_line_gives_every_setting():
    args = cli.parser().parse_args(["--state-dir", "/s", "--textfile-dir", "/t", "--keep", "5", "--outbox", "/o",
                                    "--notify-state", "/n", "--drift-timeout", "600", "--inventory", "/i/fleet.yml"])
    assert cli.settings(args) == Settings(state_dir=Path("/s"), textfile_dir=Path("/t"), keep=5, outbox=Path("/o"),
                                          notify_state=Path("/n"), drift_timeout=600.0, inventory=Path("/i/fleet.yml"))


def test_the_check_itself_runs_no_notification_command():
    """The check is the drift account's, which holds the SSH key: the operator's command is not its to run."""
    assert "--notify" not in cli.parser().format_help().replace("--notify-state", "")


def test_the_command_line_runs_the_real_drift_check_and_records_a_bad_inventory(tmp_path, monkeypatch):
    """The real child, given an inventory that does not exist: drift contacts nothing and writes no report."""
    monkeypatch.setenv("FLEETFAB_INVENTORY", "")
    code = cli.main(["--state-dir", str(tmp_path / "state"), "--inventory", str(tmp_path / "missing.yml")])
    assert (code, StateDir(tmp_path / "state").latest()["error"]) == (
        1, "drift exited 1 without writing a report (see the service log)")


def test_the_command_line_refuses_to_keep_no_history(tmp_path):
    assert cli.main(["--state-dir", str(tmp_path), "--keep", "0"]) == 1


def test_for_a_unit_a_recorded_result_is_a_success_whatever_drift_found(tmp_path, monkeypatch):
    """The failed check above, recorded: the unit stays green, the report and metrics carry the failure."""
    monkeypatch.setenv("FLEETFAB_INVENTORY", "")
    code = cli.main(["--state-dir", str(tmp_path / "state"), "--inventory", str(tmp_path / "missing.yml"),
                     "--recorded-is-success"])
    assert code == 0
    assert StateDir(tmp_path / "state").latest()["error"] == "drift exited 1 without writing a report (see the service log)"
