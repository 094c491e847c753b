"""Lab machines this checkout's Vagrant does not know that hold its addresses.

One machine hosts one lab network: CI's fresh clone must be able to bring
the lab up while a developer's checkout left its machines running, or while
an earlier clone at the same path (its Vagrant state gone with it) did. Lab
machines are disposable, so the newer `lab.up` takes the addresses over.
Only containers labelled as lab machines are ever considered.
"""

from __future__ import annotations

import json
from pathlib import Path

from fleetfab.lab.proc import output, run

ROOT_LABEL = "org.fleetfab.lab.root"


def addresses_of(container: dict) -> set[str]:
    networks = container.get("NetworkSettings", {}).get("Networks") or {}
    found = set()
    for net in networks.values():
        found.add(net.get("IPAddress"))
        found.add((net.get("IPAMConfig") or {}).get("IPv4Address"))
    return found - {None, ""}


def clashes(containers: list[dict], ours: set[str], addresses: set[str]) -> list[dict]:
    """Lab containers (by label) holding one of `addresses` that are not `ours` (ids)."""
    return [
        c for c in containers
        if ROOT_LABEL in (c.get("Config", {}).get("Labels") or {})
        and c.get("Id") not in ours
        and addresses_of(c) & addresses
    ]


def known_ids(dotfile: Path) -> set[str]:
    """Container ids this checkout's Vagrant created (`.vagrant/machines/*/docker/id`)."""
    return {p.read_text().strip() for p in dotfile.glob("machines/*/docker/id")}


def remove_foreign_machines(dotfile: Path, addresses: set[str], log=print) -> None:
    ids = output(["docker", "ps", "-aq", "--filter", f"label={ROOT_LABEL}"]).split()
    if not ids:
        return
    for c in clashes(json.loads(output(["docker", "inspect", *ids])), known_ids(dotfile), addresses):
        owner = c["Config"]["Labels"][ROOT_LABEL]
        log(f"lab: removing {c['Name'].lstrip('/')} of the lab at {owner}: it holds {', '.join(sorted(addresses_of(c) & addresses))}")
        run(["docker", "rm", "-f", c["Id"]], quiet=True)
