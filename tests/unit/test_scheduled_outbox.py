"""The notice between the check (the drift account) and the notification (an account of its own)."""

import json

from fleetfab.scheduled import outbox
from fleetfab.scheduled.send import main, send


def change(changed=True, finished="2026-11-22T03:00:00Z"):
    return {"changed": changed, "current": {"finished": finished}, "events": [], "summary": "x"}


class Notifier:
    def __init__(self):
        self.sent = []

    def __call__(self, command, change, timeout):
        self.sent.append((command, change))
        return {"at": 7.5, "ok": True, "exit_code": 0, "error": None, "elapsed": 0.1}


def test_no_news_leaves_no_notice(tmp_path):
    assert (outbox.post(tmp_path, change(changed=False)), list(tmp_path.iterdir())) == (None, [])


def test_news_is_left_with_an_id_for_the_notification_unit(tmp_path):
    ident = outbox.post(tmp_path, change())
    notice = json.loads((tmp_path / outbox.NOTICE).read_text())
    assert (notice["id"], notice["change"]) == (ident, change())


def test_the_notification_unit_sends_the_pending_notice_and_records_which(tmp_path):
    ident = outbox.post(tmp_path / "box", change())
    notifier = Notifier()
    send(tmp_path / "box", tmp_path / "home", "mail ops", notifier=notifier)
    recorded = json.loads((tmp_path / "home" / outbox.OUTCOME).read_text())
    assert (notifier.sent, recorded["notice"], recorded["ok"]) == ([("mail ops", change())], ident, True)


def test_a_notice_already_attempted_is_not_sent_again(tmp_path):
    outbox.post(tmp_path / "box", change())
    notifier = Notifier()
    send(tmp_path / "box", tmp_path / "home", "mail ops", notifier=notifier)
    assert send(tmp_path / "box", tmp_path / "home", "mail ops", notifier=notifier) is None and len(notifier.sent) == 1


def test_the_next_news_is_sent_again(tmp_path):
    notifier = Notifier()
    for finished in ("2026-11-22T03:00:00Z", "2026-11-22T03:15:00Z"):
        outbox.post(tmp_path / "box", change(finished=finished))
        send(tmp_path / "box", tmp_path / "home", "mail ops", notifier=notifier)
    assert len(notifier.sent) == 2


def test_the_outcome_is_readable_by_the_drift_side_as_values_of_fixed_shapes(tmp_path):
    (tmp_path / outbox.OUTCOME).write_text(json.dumps({"ok": False, "at": 5, "exit_code": 1, "error": "x" * 500,
                                                        "extra": "ignored"}))
    assert outbox.last_outcome(tmp_path) == {"ok": False, "at": 5, "exit_code": 1, "error": "x" * 200}


def test_an_outcome_of_another_shape_is_none(tmp_path):
    (tmp_path / outbox.OUTCOME).write_text(json.dumps({"ok": "yes"}))
    assert outbox.last_outcome(tmp_path) is None


def test_the_notification_unit_runs_the_real_command_with_the_change_on_stdin(tmp_path):
    outbox.post(tmp_path / "box", change())
    out = tmp_path / "got.json"
    assert main(["--outbox", str(tmp_path / "box"), "--state-dir", str(tmp_path / "home"), "--notify", f"cat > {out}"]) == 0
    assert json.loads(out.read_text()) == change()


def test_with_nothing_pending_the_unit_succeeds_and_runs_nothing(tmp_path):
    out = tmp_path / "got.json"
    assert main(["--outbox", str(tmp_path / "box"), "--state-dir", str(tmp_path / "home"), "--notify", f"cat > {out}"]) == 0
    assert not out.exists()
