"""The notification command: the change on its stdin, a time limit, and failures that never escape."""

import json
import time

from fleetfab.scheduled.notify import notify

CHANGE = {"changed": True, "summary": "a: drift appeared: file /etc/hosts", "events": [{"host": "a"}]}


def test_the_command_reads_the_change_as_json_on_stdin(tmp_path):
    received = tmp_path / "received.json"
    notify(f"cat > {received}", CHANGE)
    assert json.loads(received.read_text()) == CHANGE


def test_a_command_that_succeeds_is_recorded_as_ok():
    result = notify("cat >/dev/null", CHANGE)
    assert (result["ok"], result["exit_code"], result["error"]) == (True, 0, None)


def test_a_command_that_fails_is_recorded_with_its_exit_code():
    result = notify("exit 3", CHANGE)
    assert (result["ok"], result["exit_code"], result["error"]) == (False, 3, "exited 3")


def test_a_missing_program_is_a_failure_not_an_exception():
    assert notify("/nonexistent/notifier", CHANGE)["exit_code"] == 127


def test_a_command_past_its_time_limit_is_killed():
    started = time.monotonic()
    result = notify("sleep 30", CHANGE, timeout=0.3)
    assert (result["ok"], result["error"], time.monotonic() - started < 10) == (False, "did not finish within 0.3s", True)


def test_what_the_command_started_is_killed_with_it(tmp_path):
    marker = tmp_path / "late"
    notify(f"(sleep 1; touch {marker}) & sleep 30", CHANGE, timeout=0.3)
    time.sleep(1.5)
    assert not marker.exists()


def test_a_command_that_ignores_its_stdin_still_succeeds():
    big = {"events": [{"host": f"h{n}", "event": "failed", "error": "x" * 200} for n in range(2000)]}
    assert notify("exit 0", big)["ok"]


def test_the_outcome_never_holds_the_command_or_its_output():
    result = notify("echo token=s3cret; exit 1", CHANGE)
    assert "s3cret" not in json.dumps(result)


def test_the_outcome_says_when_it_was_attempted():
    assert notify("true", CHANGE, clock=lambda: 1700000000.0)["at"] == 1700000000.0
