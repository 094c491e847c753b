"""A bounded folder of earlier documents, one file per run, named by its UTC time.

Names sort as times do (`20261122T030000Z.json`), so the newest are found
by name alone and an operator can `ls` the folder to see the runs. Only the
newest `keep` survive, so the folder never fills the ops host's disk
however long the timer runs.
"""

from __future__ import annotations

import time
from pathlib import Path

from fleetfab.scheduled.atomic import read_json, write_json
from fleetfab.scheduled.documents import FINISHED_FORMAT

#: 96 runs: a day at a 15-minute interval
DEFAULT_KEEP = 96
STAMP_FORMAT = "%Y%m%dT%H%M%SZ"


def stamp(finished: str | None) -> str:
    """The file stem for a document finished at `finished` (drift's UTC form), or now when unknown."""
    try:
        moment = time.strptime(finished or "", FINISHED_FORMAT)
    except ValueError:
        moment = time.gmtime()
    return time.strftime(STAMP_FORMAT, moment)


def free_name(folder: Path, stem: str) -> Path:
    """A path for `stem` that no earlier file holds.

    Two runs in one second (a manual start right after the timer's) must
    not overwrite each other; `_2` sorts after the plain name, so the order
    by name stays the order in time.
    """
    path = folder / f"{stem}.json"
    count = 2
    while path.exists():
        path = folder / f"{stem}_{count}.json"
        count += 1
    return path


def entries(folder: Path) -> list[Path]:
    """The documents in `folder`, newest first."""
    if not folder.is_dir():
        return []
    return sorted((p for p in folder.glob("*.json") if not p.name.startswith(".")), reverse=True)


def add(folder: Path, document: dict, keep: int = DEFAULT_KEEP) -> Path:
    """Keep `document` in `folder` under its finished time, then drop all but the newest `keep`."""
    path = free_name(folder, stamp(document.get("finished")))
    write_json(path, document)
    prune(folder, keep)
    return path


def prune(folder: Path, keep: int) -> list[Path]:
    """Remove all but the newest `keep` documents; the removed paths, for the log."""
    removed = entries(folder)[max(keep, 0):]
    for path in removed:
        path.unlink(missing_ok=True)
    return removed


def load(folder: Path, last: int | None = None) -> list[dict]:
    """The documents themselves, newest first (at most `last`); unreadable ones are skipped."""
    documents = (read_json(path) for path in entries(folder)[:last])
    return [d for d in documents if isinstance(d, dict)]
