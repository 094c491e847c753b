"""One scheduled run: check the fleet, keep the report, compare, tell monitoring, notify on news.

The order protects the report. It is stored before anything that could go
wrong afterwards (the comparison, the metrics, the operator's command), and
the notification, the one step outside fleetfab's control, is bounded in
time and cannot raise.

The drift check itself is a parameter: `drift(json_path) -> exit code`,
which must leave a drift document at json_path. By default it is the child
process of `check`; tests pass a function that writes a canned document.
"""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from fleetfab.cli import exitcodes
from fleetfab.scheduled import metrics
from fleetfab.scheduled.atomic import read_json
from fleetfab.scheduled.changes import compare
from fleetfab.scheduled.check import DidNotFinish, subprocess_drift
from fleetfab.scheduled.documents import missing_report
from fleetfab.scheduled.history import DEFAULT_KEEP
from fleetfab.scheduled.notify import DEFAULT_TIMEOUT, notify
from fleetfab.scheduled.state import StateDir

log = logging.getLogger("fleetfab.scheduled")

Drift = Callable[[Path], int]
Notifier = Callable[[str, dict, float], dict]


@dataclass(frozen=True)
class Settings:
    """What the ops host's service passes to every run."""

    state_dir: Path
    #: node_exporter's textfile collector directory; no metrics are written without one
    textfile_dir: Path | None = None
    #: earlier drift documents (and change documents) kept
    keep: int = DEFAULT_KEEP
    #: shell command run with the change JSON on stdin when a run differs from the one before
    notify: str | None = None
    notify_timeout: float = DEFAULT_TIMEOUT
    #: seconds the drift check may take before it is interrupted (None: no limit of ours)
    drift_timeout: float | None = None


def check_fleet(state: StateDir, drift: Drift, previous: dict | None, clock) -> tuple[int, dict]:
    """Run the drift check; its exit code and its document, or a stand-in when it wrote none."""
    reason = None
    with tempfile.TemporaryDirectory(prefix=".run-", dir=state.root) as folder:
        path = Path(folder) / "drift.json"
        try:
            code = drift(path)
        except DidNotFinish as exc:
            code, reason = exitcodes.FAILED, str(exc)
        except Exception as exc:  # the run must still record that the check failed
            log.exception("the drift check failed")
            code, reason = exitcodes.FAILED, f"the drift check failed: {type(exc).__name__}"
        document = read_json(path)
    if isinstance(document, dict) and reason is None:
        return code, document
    code = code or exitcodes.FAILED
    reason = reason or f"drift exited {code} without writing a report (see the service log)"
    log.warning("%s", reason)
    return code, missing_report(previous, reason, code, clock)


def announce(settings: Settings, change: dict, notifier: Notifier, state: StateDir, clock=time.time) -> dict | None:
    """Notify when the run differs from the one before; the last notification's outcome, for the metrics."""
    if not (change["changed"] and settings.notify):
        return state.last_notification()
    try:
        result = notifier(settings.notify, change, settings.notify_timeout)
    except Exception as exc:  # an injected or broken notifier must not cost the run its metrics
        log.exception("the notification failed")
        result = {"at": clock(), "ok": False, "exit_code": None, "error": f"notifier raised {type(exc).__name__}"}
    state.store_notification(result)
    return result


def scheduled_run(settings: Settings, drift: Drift | None = None, notifier: Notifier = notify,
                  clock=time.time, timer=time.monotonic) -> int:
    """One run, start to end; drift's exit code (0 clean, 2 drift, 1 not every host checked, 130 interrupted).

    Raises state.Busy when another run holds the state directory.
    """
    drift = drift or subprocess_drift(settings.drift_timeout)
    state = StateDir(settings.state_dir, settings.keep)
    with state.locked():
        previous = state.latest()
        started = timer()
        code, document = check_fleet(state, drift, previous, clock)
        duration = timer() - started
        state.store_report(document)
        change = compare(previous, document)
        state.store_change(change)
        last_success = state.record_checks(document)
        log.info("%s", change["summary"])
        notification = announce(settings, change, notifier, state, clock)
        if settings.textfile_dir is not None:
            metrics.write(settings.textfile_dir, metrics.render(document, last_success, duration, notification))
    return code
