"""A journal on every host a run changed: who changed what, when, from which inventory.

An operator logged in on a host at 3 a.m. should not need the controller to
learn what fleetfab last did to it. Each applying run that changed the host
appends one JSON line to /var/log/fleetfab/journal.jsonl (root's alone):
when, who (user and machine), the inventory's file hash and git commit, and
every change with its summary, redacted like every report, with a host's
words in it written out (fleetfab.text). A run that changed nothing writes nothing. The file keeps the last KEPT lines.
"""

from __future__ import annotations

import functools
import getpass
import hashlib
import json
import socket
import subprocess
import time
from pathlib import Path

from fleetfab.report.model import APPLIED
from fleetfab.shell import q
from fleetfab.text import one_line

PATH = "/var/log/fleetfab/journal.jsonl"
KEPT = 1000


@functools.lru_cache(maxsize=None)
def inventory_revision(path: Path) -> dict:
    """The inventory file's hash, the git commit of its work tree when it has one, and whether
    the file itself is that commit's (`git_state`): a commit says nothing of a file that is
    untracked or modified."""
    path = Path(path)
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        digest = None
    commit = _git(path, "rev-parse", "HEAD")
    state = file_state(_git(path, "status", "--porcelain", "--ignored", "--", path.name)) if commit else None
    return {"path": str(path), "sha256": digest, "git_commit": commit, "git_state": state}


def _git(path: Path, *args) -> str | None:
    """git's output in the file's folder, or None (no git, not a work tree)."""
    try:
        done = subprocess.run(["git", "-C", str(path.parent), *args], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def file_state(porcelain: str | None) -> str | None:
    """'committed', 'modified', 'untracked' or 'ignored', from `git status --porcelain --ignored` of one file."""
    if porcelain is None:
        return None
    if not porcelain:
        return "committed"
    return {"??": "untracked", "!!": "ignored"}.get(porcelain[:2], "modified")


def entry(report, purpose: str, inventory_path: Path, redact) -> dict | None:
    """The journal line for one host's run, or None when it changed nothing."""
    applied = [c for c in report.changes if c.status == APPLIED]
    if not applied and not report.handlers:
        return None
    return {
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "who": f"{getpass.getuser()}@{socket.gethostname()}",
        "command": purpose,
        "inventory": inventory_revision(Path(inventory_path)),
        "changes": [{"role": c.role, "resource": one_line(redact(c.change.resource)), "action": c.change.action,
                     "summary": one_line(redact(c.change.summary))} for c in applied],
        "handlers": list(report.handlers),
        "failed": report.status == "failed",
    }


def append_script(line: dict) -> str:
    """Append one line, keeping the file root's alone and at most KEPT lines long."""
    text = json.dumps(line, sort_keys=True)
    return (
        "set -e\numask 077\n"
        f"mkdir -p {q(str(Path(PATH).parent))}\n"
        f"printf '%s\\n' {q(text)} >> {q(PATH)}\n"
        f"if [ \"$(wc -l < {q(PATH)})\" -gt {KEPT} ]; then "
        f"tail -n {KEPT} {q(PATH)} > {q(PATH)}.new && mv {q(PATH)}.new {q(PATH)}; fi\n"
    )


def read_script(last: int) -> str:
    return f"tail -n {int(last)} {q(PATH)} 2>/dev/null || true\n"


def newest_first(text: str) -> list[dict]:
    """The journal's lines, newest first; a line that is not JSON (a hand edit) is skipped."""
    found = []
    for line in text.splitlines():
        try:
            found.append(json.loads(line))
        except ValueError:
            continue
    return list(reversed(found))
