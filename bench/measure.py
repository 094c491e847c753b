"""A tool run as child processes: wall time, the children's own CPU time and peak memory.

`os.wait4` returns the resource usage of one child (and of the children it
waited for), so the figures are the controller's alone: the endpoints' sshd
processes are the bench's children too, but never waited for here. A run of
several controller processes at once (one per core, each with its share of
hosts) adds their CPU times and their peak memories.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Usage:
    wall: float
    user: float
    system: float
    #: peak resident memory, MiB (Linux reports ru_maxrss in KiB); summed over processes
    max_rss_mib: float
    #: the worst exit code (0 only if every process exited 0)
    exit_code: int
    timed_out: bool = False

    @property
    def cpu(self) -> float:
        return self.user + self.system


def run_measured(command: list[str], log: Path, env: dict | None = None, cwd: Path | None = None,
                 timeout: float = 1800.0) -> Usage:
    return run_together([command], [log], env, cwd, timeout)


def run_together(commands: list[list[str]], logs: list[Path], env: dict | None = None, cwd: Path | None = None,
                 timeout: float = 1800.0) -> Usage:
    """Start every command at once and wait for all; one past `timeout` is killed, not waited for forever."""
    expired = threading.Event()
    outputs = [_open_log(log) for log in logs]
    started = time.perf_counter()
    processes: list[subprocess.Popen] = []
    try:
        for command, out in zip(commands, outputs):
            processes.append(subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                              env=env, cwd=cwd, start_new_session=True))
        timer = threading.Timer(timeout, lambda: [_kill_group(p.pid, expired) for p in processes])
        timer.start()
        try:
            results = [_reap(p) for p in processes]
        finally:
            timer.cancel()
    except BaseException:  # Ctrl-C: each child has a session of its own and would go on
        for p in processes:
            if p.returncode is None:
                _kill_group(p.pid, expired)
                os.waitpid(p.pid, 0)
        raise
    finally:
        for out in outputs:
            out.close()
    wall = time.perf_counter() - started
    codes = [code for code, _ in results]
    return Usage(
        wall,
        sum(u.ru_utime for _, u in results),
        sum(u.ru_stime for _, u in results),
        sum(u.ru_maxrss for _, u in results) / 1024,
        max(codes, key=lambda c: (c != 0, abs(c))),
        expired.is_set(),
    )


def _open_log(log: Path):
    log.parent.mkdir(parents=True, exist_ok=True)
    return log.open("w")


def _reap(process: subprocess.Popen):
    """Exit code and resource usage; reaped here, so Popen must not wait again."""
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, usage


def _kill_group(pid: int, expired: threading.Event) -> None:
    expired.set()
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
