"""The operator's notification command, run with the change document on its standard input.

The command is a shell command string from the inventory (`mail -s ...`,
a curl to a chat webhook, a script). It is given a time limit and its own
process group, so a hung command or a child it leaves behind is ended with
it. Whatever it does, it cannot cost the run its report: every failure is
caught, logged, and returned as an outcome that the run records in
notify.json and the metrics.

The outcome never holds the command or its output: a webhook URL with a
token in it would otherwise end up in files other users read. The
command's output goes to the service's log, as cron would mail it.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import time

log = logging.getLogger("fleetfab.scheduled")

DEFAULT_TIMEOUT = 30.0
SHELL = "/bin/sh"


def outcome(started: float, clock, exit_code: int | None = None, error: str | None = None) -> dict:
    """What notify.json records of one attempt."""
    return {"at": round(started, 3), "ok": error is None, "exit_code": exit_code, "error": error,
            "elapsed": round(clock() - started, 3)}


def end_group(process: subprocess.Popen) -> None:
    """Kill the command and whatever it started, then reap it."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def notify(command: str, change: dict, timeout: float = DEFAULT_TIMEOUT, clock=time.time) -> dict:
    """Run `command` with `change` as JSON on stdin; the outcome, never an exception."""
    started = clock()
    payload = (json.dumps(change, indent=2) + "\n").encode()
    try:
        process = subprocess.Popen([SHELL, "-c", command], stdin=subprocess.PIPE, start_new_session=True)
    except OSError as exc:
        log.warning("notification command could not start: %s", exc.strerror)
        return outcome(started, clock, error=f"could not start: {exc.strerror}")
    try:
        process.communicate(payload, timeout=timeout)
    except subprocess.TimeoutExpired:
        end_group(process)
        log.warning("notification command did not finish within %gs; killed", timeout)
        return outcome(started, clock, error=f"did not finish within {timeout:g}s")
    if process.returncode != 0:
        log.warning("notification command exited %s", process.returncode)
        return outcome(started, clock, process.returncode, f"exited {process.returncode}")
    return outcome(started, clock, 0)
