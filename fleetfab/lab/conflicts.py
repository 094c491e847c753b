"""Lab machines of another checkout that hold this lab's addresses.

One machine hosts one lab network: CI's fresh clone must be able to bring
the lab up while a developer's checkout left its machines running. Lab
machines are disposable, so the newer `lab.up` takes the addresses over.
"""

from __future__ import annotations

import json

from fleetfab.lab.proc import output, run

ROOT_LABEL = "org.fleetfab.lab.root"


def addresses_of(container: dict) -> set[str]:
    networks = container.get("NetworkSettings", {}).get("Networks") or {}
    found = set()
    for net in networks.values():
        found.add(net.get("IPAddress"))
        found.add((net.get("IPAMConfig") or {}).get("IPv4Address"))
    return found - {None, ""}


def clashes(containers: list[dict], root: str, addresses: set[str]) -> list[dict]:
    """Containers of another checkout's lab (by label) holding one of `addresses`."""
    return [
        c for c in containers
        if (c.get("Config", {}).get("Labels") or {}).get(ROOT_LABEL) not in (None, root)
        and addresses_of(c) & addresses
    ]


def remove_foreign_machines(root: str, addresses: set[str], log=print) -> None:
    ids = output(["docker", "ps", "-aq", "--filter", f"label={ROOT_LABEL}"]).split()
    if not ids:
        return
    for c in clashes(json.loads(output(["docker", "inspect", *ids])), root, addresses):
        owner = c["Config"]["Labels"][ROOT_LABEL]
        log(f"lab: removing {c['Name'].lstrip('/')} of the lab at {owner}: it holds {', '.join(sorted(addresses_of(c) & addresses))}")
        run(["docker", "rm", "-f", c["Id"]], quiet=True)
