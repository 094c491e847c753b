"""Files written so that a reader never sees half of one.

Monitoring (node_exporter), `fab drift.status` and the next run all read
these files while a run may be writing them; a file is therefore written
beside its final name and renamed over it, which is atomic on one file
system.
"""

from __future__ import annotations

import json
import os
from pathlib import Path


def write_text(path: Path, text: str, mode: int | None = None) -> None:
    """Write `text` to `path` through a hidden partial file, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    with open(partial, "w", encoding="utf-8") as stream:
        stream.write(text)
        stream.flush()
        os.fsync(stream.fileno())
    if mode is not None:
        os.chmod(partial, mode)
    os.replace(partial, path)


def write_json(path: Path, document, mode: int | None = None) -> None:
    """A JSON document, indented like the drift report, so people can read it too."""
    write_text(path, json.dumps(document, indent=2) + "\n", mode)


def read_json(path: Path):
    """The document at `path`, or None when there is none or it cannot be read as JSON.

    A missing or damaged state file must not stop a scheduled run: the run
    then behaves as if it were the first one.
    """
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
