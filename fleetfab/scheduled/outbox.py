"""Between the check and the notification: two accounts, one folder, one way.

The check runs as the drift account, which holds the SSH key every host
accepts; the operator's notification command (mail, a webhook with a token)
runs as an account of its own that cannot read that key
(roles/controller: `fleetfab-notify`, in a unit started after each check).
They meet in two places, each written by one side and only read by the other:

    outbox/notice.json     the drift account's: the newest change worth telling, with an id
                           (the folder is the drift account's, group the notification account's, 2750)
    <notify home>/notify.json
                           the notification account's: how its last attempt went, and which notice

Neither side writes where the other can: a notification account that plants a
link in its own folder cannot make the drift account write through it, and
what the drift account reads back from notify.json is a few values of fixed
shape, read without following a link.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from fleetfab.scheduled.atomic import read_json, write_json

NOTICE = "notice.json"
OUTCOME = "notify.json"
#: the group (the notification account's) reads the notice; others nothing
NOTICE_MODE = 0o640
#: the drift run's metrics and `fab drift.status` read the outcome
OUTCOME_MODE = 0o644
#: notify.json is a few fields; anything longer is not ours
OUTCOME_LIMIT = 4096


def notice_id(change: dict) -> str:
    """Unique per posted notice: the run's finished time and the moment it was posted."""
    return f"{(change.get('current') or {}).get('finished')}/{time.time_ns()}"


def post(outbox: Path, change: dict) -> str | None:
    """Leave the change for the notification unit when it is news; its id, or None when there is none."""
    if not change.get("changed"):
        return None
    ident = notice_id(change)
    write_json(Path(outbox) / NOTICE, {"id": ident, "change": change}, NOTICE_MODE)
    return ident


def pending(outbox: Path, outcome_dir: Path) -> dict | None:
    """The notice not yet attempted ({"id", "change"}), or None."""
    notice = read_json(Path(outbox) / NOTICE)
    if not (isinstance(notice, dict) and isinstance(notice.get("id"), str) and isinstance(notice.get("change"), dict)):
        return None
    done = read_json(Path(outcome_dir) / OUTCOME)
    if isinstance(done, dict) and done.get("notice") == notice["id"]:
        return None
    return notice


def record(outcome_dir: Path, notice: dict, outcome: dict) -> None:
    write_json(Path(outcome_dir) / OUTCOME, {**outcome, "notice": notice["id"]}, OUTCOME_MODE)


def last_outcome(outcome_dir: Path | None) -> dict | None:
    """How the last notification went, read by the drift side: only values of the expected shapes,
    never through a link (the folder is another account's)."""
    if outcome_dir is None:
        return None
    try:
        fd = os.open(Path(outcome_dir) / OUTCOME, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as stream:
        text = stream.read(OUTCOME_LIMIT + 1)
    try:
        found = json.loads(text) if len(text) <= OUTCOME_LIMIT else None
    except ValueError:
        return None
    return shaped_outcome(found)


def shaped_outcome(found) -> dict | None:
    if not isinstance(found, dict) or not isinstance(found.get("ok"), bool):
        return None
    number = lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)
    error = found.get("error")
    return {"ok": found["ok"], "at": found["at"] if number(found.get("at")) else None,
            "exit_code": found["exit_code"] if isinstance(found.get("exit_code"), int) else None,
            "error": error[:200] if isinstance(error, str) else None}
