"""Run the lab's local tools (vagrant, docker, debootstrap) with one error type."""

from __future__ import annotations

import shlex
import subprocess


class LabError(RuntimeError):
    """A lab step failed; the message says which command and why."""


def run(cmd: list[str], *, quiet: bool = False, **kw) -> subprocess.CompletedProcess:
    """Run `cmd`, raising LabError with its output when it fails.

    `quiet` captures output (shown only on failure); otherwise it streams, so
    long steps such as debootstrap show progress.
    """
    if quiet:
        kw.setdefault("capture_output", True)
        kw.setdefault("text", True)
    try:
        result = subprocess.run(cmd, **kw)
    except FileNotFoundError as exc:
        raise LabError(f"{cmd[0]} is not installed (run scripts/setup)") from exc
    if result.returncode != 0:
        detail = (result.stderr or result.stdout or "").strip() if quiet else ""
        raise LabError(f"`{shlex.join(cmd)}` exited {result.returncode}" + (f":\n{detail}" if detail else ""))
    return result


def output(cmd: list[str], **kw) -> str:
    return run(cmd, quiet=True, **kw).stdout.strip()
