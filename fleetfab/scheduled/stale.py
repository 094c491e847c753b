"""Whether the ops host's copy of the inventory is older than a host's last bootstrap.

The operator changes the inventory and bootstraps some hosts; until the ops
host's copy is brought up to date (a bootstrap does that when the ops host is
reachable: roles/controller/refresh.py), the copy describes the old fleet and
every resource the new inventory changed would read as drift: a false alarm.

Each applying run leaves a journal line on the host it changed, naming the
inventory it ran from by SHA-256 (fleetfab/journal.py); the ops host's copy
keeps the SHA-256 of the operator's inventory it was made from beside it
(`source.json`, whose modification time is when that copy arrived). A host
whose newest journal line names another inventory, written after the copy
arrived, was set from an inventory the ops host has not seen: its drift is
not judged. The host is marked `stale` in the report (its differences kept
under `stale_changes`), and the report's exit code is 3 when nothing else is
wrong.

Only hosts that drift are asked for their journal: a clean fleet costs no
extra read. A host's answer is untrusted: only a time and a digest of fixed
shapes are taken from it.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import logging
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from fleetfab.cli import exitcodes
from fleetfab.journal import PATH as JOURNAL

log = logging.getLogger("fleetfab.scheduled")

#: beside the copy: which operator inventory it was made from (roles/controller/copy.py writes it)
SOURCE_NAME = "source.json"
#: the report's exit code when the only news is a copy older than hosts' last bootstraps
STALE = 3
#: what journal_script prints is two short lines; more is not its answer
LINE_LIMIT = 4096
SHA256 = re.compile(r"[0-9a-f]{64}")
AT_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
#: how the host's read side's refusal of a read-out it does not have reaches the report (fleetfab.readside.transport)
COPY_IS_OLDER = "copy is older: "
#: hosts asked for their journal at once
PARALLEL = 8

#: host name -> what the journal read printed on it (None: it could not be read)
Reader = Callable[[str], "str | None"]


@dataclass(frozen=True)
class CopySource:
    """The ops host's copy: the inventories it stands for, and when it arrived."""

    #: the operator's inventory the copy was made from
    source: str | None
    #: the copy file itself: an applying copy's own runs journal this one
    own: str | None
    #: unix time the copy's source last changed on the ops host (source.json's modification time)
    arrived: float | None

    @property
    def digests(self) -> set[str]:
        return {d for d in (self.source, self.own) if d}

    @property
    def known(self) -> bool:
        return self.arrived is not None and self.source is not None


def file_digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def source_digest(text: str) -> str | None:
    """The operator inventory's digest from source.json's text, or None."""
    try:
        document = json.loads(text)
    except ValueError:
        return None
    digest = document.get("sha256") if isinstance(document, dict) else None
    return digest if isinstance(digest, str) and SHA256.fullmatch(digest) else None


def copy_source(inventory_path: Path) -> CopySource:
    """What the copy at `inventory_path` stands for; unknown when it has no source.json (not an ops host's copy)."""
    source = Path(inventory_path).parent / SOURCE_NAME
    try:
        text, arrived = source.read_text(encoding="utf-8"), source.stat().st_mtime
    except OSError:
        return CopySource(None, None, None)
    return CopySource(source_digest(text), file_digest(Path(inventory_path)), arrived)


def journal_script() -> str:
    """Of the newest line of the host's journal (root's alone), only its time and the inventory's
    digest: the line's changes are none of the ops host's business. The journal writes its keys
    sorted, so `at` comes first; a key inside a string would have its quotes escaped."""
    return f"tail -n 1 {JOURNAL} 2>/dev/null | grep -o -E '\"(at|sha256)\": \"[^\"]*\"' || true\n"


def at_seconds(text) -> int | None:
    try:
        return calendar.timegm(time.strptime(text, AT_FORMAT))
    except (TypeError, ValueError):
        return None


FIELD = re.compile(r'"(at|sha256)": "([^"]*)"')


def last_bootstrap(text: str | None) -> dict | None:
    """{"at": unix seconds, "sha256": digest} from what journal_script printed, or None when it is
    not exactly one of each of those shapes (no journal, a hand edit, a run from no inventory file)."""
    fields = [FIELD.fullmatch(line.strip()) for line in (text or "")[:LINE_LIMIT].strip().splitlines()]
    if len(fields) != 2 or not all(fields):
        return None
    found = dict(match.groups() for match in fields)
    at, digest = at_seconds(found.get("at")), found.get("sha256")
    if at is None or digest is None or not SHA256.fullmatch(digest):
        return None
    return {"at": at, "sha256": digest}


def is_stale(copy: CopySource, bootstrap: dict | None) -> bool:
    """The host was changed from an inventory the copy does not stand for, after the copy arrived."""
    return copy.known and bootstrap is not None and bootstrap["sha256"] not in copy.digests and bootstrap["at"] > copy.arrived


def mark_stale(entry: dict, bootstrap: dict) -> None:
    """The host's differences are kept, but as what a stale copy sees, not as drift."""
    entry["stale"] = {"bootstrapped": time.strftime(AT_FORMAT, time.gmtime(bootstrap["at"])),
                      "inventory_sha256": bootstrap["sha256"]}
    entry["stale_changes"] = entry.get("changes") or []
    entry["changes"] = []
    entry["status"] = "stale"
    entry.setdefault("notes", []).append(
        "the ops host's copy of the inventory is older than this host's last bootstrap: drift not judged")


def mark_refused(entry: dict) -> None:
    """The host's read side refused a read-out this copy asks for (fleetfab.readside.transport.CopyIsOlder):
    the copy and the host's last bootstrap disagree. Not a host that failed, not drift."""
    entry["stale"] = {"bootstrapped": None, "inventory_sha256": None, "reason": entry.get("error")}
    entry["status"] = "stale"


def refused_as_older(entry: dict) -> bool:
    return str(entry.get("error") or "").startswith(COPY_IS_OLDER)


def exit_code(document: dict) -> int:
    """drift's exit code once stale hosts are told apart: 1 (not all checked) outranks 2 (drift), which outranks 3;
    an interrupted run keeps its 130."""
    code = document.get("exit_code")
    if code not in (exitcodes.OK, exitcodes.DRIFT, exitcodes.FAILED):
        return code
    entries = (document.get("hosts") or {}).values()
    if any(e.get("status") == "failed" for e in entries):
        return exitcodes.FAILED
    if any(e.get("changes") for e in entries):
        return exitcodes.DRIFT
    return STALE if any(e.get("stale") for e in entries) else exitcodes.OK


def drifting_hosts(document: dict) -> list[str]:
    return sorted(name for name, e in (document.get("hosts") or {}).items() if e.get("status") == "changed" and e.get("changes"))


def judge(document: dict, copy: CopySource, reader: Callable[[], Reader]) -> dict:
    """Mark the hosts whose read side refused this copy's read-outs, and the drifting hosts bootstrapped
    from another inventory since the copy arrived; the report's `copy` says what the ops host checked
    against and which hosts found it older. Changes `document` in place and returns it.
    `reader()` makes the journal reader, only when a host drifts."""
    entries = document.get("hosts") or {}
    stale_hosts = []
    for name, entry in sorted(entries.items()):
        if refused_as_older(entry):
            mark_refused(entry)
            stale_hosts.append(name)
    names = drifting_hosts(document) if copy.known else []
    if names:
        read = reader()
        with ThreadPoolExecutor(max_workers=min(PARALLEL, len(names))) as pool:
            answers = dict(zip(names, pool.map(read, names)))
        for name in names:
            bootstrap = last_bootstrap(answers[name])
            if is_stale(copy, bootstrap):
                mark_stale(entries[name], bootstrap)
                stale_hosts.append(name)
    document["copy"] = {"sha256": copy.source, "stale_hosts": sorted(stale_hosts)}
    document["exit_code"] = exit_code(document)
    return document


def ssh_reader(inventory_path: Path) -> Reader:
    """Reads each host's journal as the copy logs in: an ops copy through the host's read program
    (the journal's read-out, which every host's bootstrap installs: fleetfab.readside), else `sh -s`."""
    from fleetfab.inventory import load_inventory
    from fleetfab.readside.transport import ops_remote
    from fleetfab.redact import Redactor
    from fleetfab.remote import Remote
    from fleetfab.ssh import connect

    inventory = load_inventory(inventory_path)

    def read(name: str) -> str | None:
        host = inventory.hosts[name]
        try:
            remote = ops_remote(inventory, Remote(host.name, connect(host, inventory.ssh), Redactor(), sudo=host.user != "root"))
            try:
                return remote.check(journal_script(), "journal", "the journal's newest inventory").stdout
            finally:
                remote.close()
        except Exception as exc:  # a host that cannot be asked keeps its drift as found
            log.warning("%s: journal not read: %s", name, type(exc).__name__)
            return None

    return read
