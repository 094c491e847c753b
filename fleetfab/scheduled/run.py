"""One scheduled run: check the fleet, judge its copy's age, keep the report, compare, tell monitoring,
and leave news for the notification.

The order protects the report. It is stored before anything that could go
wrong afterwards (the comparison, the metrics). The operator's notification
command is not run here: this process is the drift account's, which holds
the SSH key; the change is left in the outbox for the notification unit,
which runs after the check as an account of its own (fleetfab/scheduled/outbox.py).

The drift check itself is a parameter: `drift(json_path) -> exit code`,
which must leave a drift document at json_path. By default it is the child
process of `check`; tests pass a function that writes a canned document.
So is the journal reader that tells a stale copy (fleetfab/scheduled/stale.py).
"""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from fleetfab.cli import exitcodes
from fleetfab.scheduled import metrics, outbox, retry, stale
from fleetfab.scheduled.atomic import read_json
from fleetfab.scheduled.changes import compare
from fleetfab.scheduled.check import DidNotFinish, subprocess_drift
from fleetfab.scheduled.documents import missing_report
from fleetfab.scheduled.history import DEFAULT_KEEP
from fleetfab.scheduled.state import StateDir

log = logging.getLogger("fleetfab.scheduled")

Drift = Callable[[Path], int]


@dataclass(frozen=True)
class Settings:
    """What the ops host's service passes to every run."""

    state_dir: Path
    #: node_exporter's textfile collector directory; no metrics are written without one
    textfile_dir: Path | None = None
    #: earlier drift documents (and change documents) kept
    keep: int = DEFAULT_KEEP
    #: where a change worth telling is left for the notification unit (none: nobody is told)
    outbox: Path | None = None
    #: the notification account's folder, whose notify.json says how the last notification went
    notify_state: Path | None = None
    #: the ops host's copy of the inventory; with its source.json beside it, stale hosts are told apart
    inventory: Path | None = None
    #: seconds the drift check may take before it is interrupted (None: no limit of ours)
    drift_timeout: float | None = None


def drift_again(state: StateDir, drift: Drift):
    """names -> the drift document of just those hosts (None when the check wrote none)."""
    def again(names: list[str]) -> dict | None:
        with tempfile.TemporaryDirectory(prefix=".again-", dir=state.root) as folder:
            path = Path(folder) / "drift.json"
            try:
                drift(path, hosts=",".join(names))
            except Exception:  # the first try's entries stand
                log.exception("checking the held hosts again failed")
                return None
            return read_json(path)
    return again


def check_fleet(state: StateDir, drift: Drift, previous: dict | None, clock, deadline: float | None = None,
                timer=time.monotonic) -> tuple[int, dict]:
    """Run the drift check (hosts another run held, again a few times); its exit code and its document,
    or a stand-in when it wrote none."""
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
        if retry.locked_hosts(document):
            document = retry.check_again(document, drift_again(state, drift), deadline, clock=timer)
            code = document["exit_code"]
        return code, document
    code = code or exitcodes.FAILED
    reason = reason or f"drift exited {code} without writing a report (see the service log)"
    log.warning("%s", reason)
    return code, missing_report(previous, reason, code, clock)


def judge_copy(settings: Settings, document: dict, reader: stale.Reader | None) -> dict:
    """Tell hosts checked against a copy older than their last bootstrap from drifting or failed ones."""
    if settings.inventory is None or document.get("error"):
        return document
    copy = stale.copy_source(settings.inventory)
    try:
        return stale.judge(document, copy, (lambda: reader) if reader else (lambda: stale.ssh_reader(settings.inventory)))
    except Exception:  # the report is kept as drift found it
        log.exception("the copy's age could not be judged")
        return document


def scheduled_run(settings: Settings, drift: Drift | None = None, reader: stale.Reader | None = None,
                  clock=time.time, timer=time.monotonic) -> int:
    """One run, start to end; the report's exit code (0 clean, 2 drift, 1 not every host checked,
    3 only a copy older than some hosts' last bootstrap, 130 interrupted).

    Raises state.Busy when another run holds the state directory.
    """
    drift = drift or subprocess_drift(settings.drift_timeout)
    state = StateDir(settings.state_dir, settings.keep)
    with state.locked():
        previous = state.latest()
        started = timer()
        deadline = started + settings.drift_timeout if settings.drift_timeout else None
        code, document = check_fleet(state, drift, previous, clock, deadline, timer)
        duration = timer() - started
        document = judge_copy(settings, document, reader)
        if "copy" in document:
            code = document["exit_code"]
        state.store_report(document)
        change = compare(previous, document)
        state.store_change(change)
        last_success = state.record_checks(document)
        log.info("%s", change["summary"])
        if settings.outbox is not None:
            outbox.post(settings.outbox, change)
        if settings.textfile_dir is not None:
            notification = outbox.last_outcome(settings.notify_state)
            metrics.write(settings.textfile_dir, metrics.collect(document, last_success, duration, notification))
    return code
