"""The drift check of a scheduled run, as a child process of the same Python.

Why a child process and not `commands.drift()` called in this one:

- A time limit that still leaves a report. On timeout the child gets
  SIGINT, which drift treats like an operator's Ctrl-C: hosts finish the
  command they are in, release their locks, and the report is written
  (exit 130). Only a child that ignores it is killed. In-process, a hung
  SSH read could only be ended by systemd killing everything, metrics and
  history included.
- Whatever drift does (an exception, a stuck thread, memory held by 400
  SSH sessions), the parent survives it and records the run as failed,
  so monitoring sees a failed check, not a stale file.
- drift installs its own SIGINT handler and prints its tables to stdout;
  in a child both stay drift's, and its output goes to the service's log.

A Python start costs a fraction of a second, against a timer that fires
every few minutes. The child is `python -m fleetfab.scheduled.check PATH`,
which is `fab drift --json PATH` over every host of the inventory named by
FLEETFAB_INVENTORY, without needing the fabfile's folder.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
from pathlib import Path

log = logging.getLogger("fleetfab.scheduled")

#: after SIGINT, how long drift may take to finish its hosts and write its report
GRACE = 30.0


class DidNotFinish(RuntimeError):
    """The drift check ran past its time limit and had to be killed."""


def child_command(json_path: Path, hosts: str | None = None) -> list[str]:
    """The same Python, so the child runs the fleetfab this run was installed with; `hosts` as -H takes them."""
    return [sys.executable, "-m", "fleetfab.scheduled.check", str(json_path), *([hosts] if hosts else [])]


def exit_status(returncode: int) -> int:
    """A child ended by a signal reports as a shell would (128 + the signal: 130 for SIGINT)."""
    return returncode if returncode >= 0 else 128 - returncode


def run_child(json_path: Path, timeout: float | None = None, grace: float = GRACE, command: list[str] | None = None,
              hosts: str | None = None) -> int:
    """Run the drift check in a child; its exit code. Raises DidNotFinish when it had to be killed."""
    process = subprocess.Popen(command or child_command(json_path, hosts))
    try:
        return exit_status(process.wait(timeout=timeout))
    except subprocess.TimeoutExpired:
        log.warning("drift did not finish within %gs; interrupting it", timeout)
        process.send_signal(signal.SIGINT)
    try:
        return exit_status(process.wait(timeout=grace))
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise DidNotFinish(f"drift did not finish within {timeout:g}s and was killed") from None


def subprocess_drift(timeout: float | None = None):
    """The drift callable a scheduled run uses by default: (json_path, hosts=None) -> exit code."""
    return lambda json_path, hosts=None: run_child(Path(json_path), timeout, hosts=hosts)


def interruptible() -> None:
    """Take SIGINT as KeyboardInterrupt even when started with it ignored.

    A program started in the background by a shell without job control
    inherits SIGINT ignored, and Python then never raises KeyboardInterrupt:
    the time limit's interrupt would go unheard and the report unwritten.
    """
    signal.signal(signal.SIGINT, signal.default_int_handler)


def main(argv: list[str]) -> int:
    from fleetfab.cli import commands

    interruptible()
    return commands.drift(argv[1] if len(argv) > 1 else None, json_path=argv[0])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
