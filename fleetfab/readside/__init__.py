"""The read side: what the ops host may do on every other host, and nothing more.

The ops host's key runs one program as root (`PROGRAM`, pinned by its sha256
in the sudoers rule), which runs only read-outs that the operator's bootstrap
installed on that host: the very probes the ops host's copy of the inventory
sends in a drift, each named by the sha256 of its text. Nothing the ops host
sends is executed; what it may read is decided where the operator runs.

- `program_text()` / `program_digest()`: the program (fleetfab/readside/hostprogram.py)
- `host_resources(ctx)`: what a host accepting the ops key needs (program, read-outs)
- `fleetfab.readside.transport`: the ops copy's side of the conversation
"""

from __future__ import annotations

import hashlib
from pathlib import Path

PROGRAM_DIR = "/usr/local/libexec/fleetfab"
PROGRAM = f"{PROGRAM_DIR}/read"
#: the command the ops key is forced to, and the one the ops copy asks for
FORCED_COMMAND = f"sudo -n {PROGRAM}"
#: root's alone (0700): the installed read-outs and the recorded digests of secret files
STORE = "/var/lib/fleetfab-read"
MANIFEST = f"{STORE}/readouts.json"

_SOURCE = Path(__file__).with_name("hostprogram.py")


def program_text() -> str:
    """The program's bytes, as installed on every host."""
    return _SOURCE.read_text()


def program_digest() -> str:
    """Hex sha256 of the program, for sudo's `sha256:` pin."""
    return hashlib.sha256(program_text().encode()).hexdigest()


def host_resources(ctx) -> list:
    """The program and the read-outs, for a host that accepts the ops key (called by roles/controller/access.py)."""
    from fleetfab.readside.installed import host_resources as resources

    return resources(ctx)
