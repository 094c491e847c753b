"""`fab drift.status`: the ops hosts' last scheduled results, read from the operator's machine.

The state files are read in one command per ops host, as the operator's own
login (they are the drift account's, so through sudo where the login is not
root); an ops host that cannot be reached is said so, and the others shown.
"""

from __future__ import annotations

import json

from fleetfab.cli import exitcodes
from fleetfab.cli.commands import consoles, load_or_explain, read_on
from fleetfab.scheduled.status import print_status
from fleetfab.shell import q
from fleetfab.roles.controller.access import ops_hosts
from fleetfab.roles.controller.settings import STATE_DIR

FILES = ("latest.json", "changes.json")
#: printed between the files: never in a JSON document
BETWEEN = "\x1e"


def read_script() -> str:
    parts = [f"cat {q(f'{STATE_DIR}/{name}')} 2>/dev/null || true" for name in FILES]
    return f"; printf '{BETWEEN}'; ".join(parts) + "\n"


def parse(text: str) -> list[dict | None]:
    """latest.json and changes.json; None for one not written yet (or not JSON)."""
    found = []
    for part in (text.split(BETWEEN) + [""] * len(FILES))[:len(FILES)]:
        try:
            found.append(json.loads(part) if part.strip() else None)
        except ValueError:
            found.append(None)
    return found


def drift_status() -> int:
    out, err = consoles()
    loaded = load_or_explain(err)
    if loaded is None:
        return exitcodes.FAILED
    inventory, _ = loaded
    ops = ops_hosts(inventory)
    if not ops:
        err.print(f"no host of {inventory.path} has the controller role: nothing checks the fleet on a schedule",
                  style="yellow")
        return exitcodes.FAILED
    code = exitcodes.OK
    for host in ops:
        text = read_on(inventory, host, read_script(), "status", "read the scheduled drift results", err)
        if text is None:
            code = exitcodes.FAILED
            continue
        latest, change = parse(text)
        out.rule(f"ops host {host.name}")
        print_status(out, latest, change)
    return code
