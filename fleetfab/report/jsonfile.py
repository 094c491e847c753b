"""The machine-readable report of a run, for schedulers and dashboards."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from fleetfab.report.model import HostReport, totals


def report_document(command: str, reports: list[HostReport], redact, exit_code: int) -> dict:
    return {
        "command": command,
        "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "exit_code": exit_code,
        "totals": totals(reports),
        "hosts": {r.host: r.as_dict(redact) for r in reports},
    }


#: the path that means standard output (as in most command-line tools): `--json -`
STDOUT = "-"


def to_stdout(path) -> bool:
    return path is not None and str(path) == STDOUT


def write_report(path: str | os.PathLike, document: dict) -> None:
    """Write atomically, so a scheduler never reads half a report; `-` is standard output."""
    if to_stdout(path):
        sys.stdout.write(json.dumps(document, indent=2, sort_keys=False) + "\n")
        sys.stdout.flush()
        return
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(json.dumps(document, indent=2, sort_keys=False) + "\n")
    partial.replace(path)
