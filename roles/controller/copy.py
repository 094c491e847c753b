"""The ops host's own inventory: the operator's, logging in as the drift account.

Everything but how to log in is the operator's document as it is, so the ops
host checks exactly what the operator declared. The copy is a fixed point: made
again from itself (as the ops host does when it checks itself) it is the same,
so a check from the ops host does not find its own inventory drifting.
"""

from __future__ import annotations

import copy
import json

import yaml

from fleetfab.ssh import known_keys, known_name
from fleetfab.roles.controller.settings import ACCOUNT, INVENTORY, KEY, KNOWN_HOSTS, SOURCE, VENV
from fleetfab.roles.controller.software import installed_roles_path

HEADER = ("# Managed by fleetfab (role controller): the operator's inventory, as the ops host reads it.\n"
          "# Edit the operator's copy and bootstrap the ops host; changes made here are overwritten.\n")

#: ssh settings kept from the operator's document; the rest are the ops host's own
KEPT_SSH = ("port", "connect_timeout", "read_timeout")


def copy_resources(ctx, notify: str) -> list:
    """The copy, the host keys it trusts and its source: what a bootstrap of other hosts brings up
    to date too (roles/controller/refresh.py). A change starts the checks over (`notify`)."""
    from fleetfab.resources import File

    return [
        File(INVENTORY, ops_inventory(ctx.inventory), group=ACCOUNT, mode="0640", notify=notify,
             validate=f"{VENV}/bin/python -c 'import sys; from fleetfab.inventory import load_inventory; load_inventory(sys.argv[1])' %s"),
        File(KNOWN_HOSTS, ops_known_hosts(ctx.inventory), group=ACCOUNT, mode="0640", notify=notify),
        File(SOURCE, ops_source(ctx.inventory), group=ACCOUNT, mode="0640", notify=notify),
    ]


def ops_document(document: dict) -> dict:
    doc = copy.deepcopy(document)
    ssh = {k: v for k, v in (doc.get("ssh") or {}).items() if k in KEPT_SSH}
    doc["ssh"] = {"user": ACCOUNT, **ssh, "identity": KEY, "known_hosts": KNOWN_HOSTS, "trust_on_first_use": False}
    for host in (doc.get("hosts") or {}).values():
        if isinstance(host, dict):
            host.pop("user", None)
    run = dict(doc.get("run") or {})
    run.pop("read_only", None)
    # read-only: the ops key can only read anyway (roles/controller/keyline.py);
    # the copy also says so, so a change is refused before any host is contacted
    run["ops_copy"] = True
    run["read_only"] = True
    doc["run"] = run
    return doc


def ops_inventory(inventory) -> str:
    document = yaml.safe_load(inventory.path.read_text())
    doc = ops_document(document)
    if inventory.roles_path:
        # the operator's roles travel with fleetfab (roles/controller/software.py)
        doc["roles_path"] = installed_roles_path(VENV, len(inventory.roles_path))
    record_login_keys(doc, inventory)
    return HEADER + yaml.safe_dump(doc, sort_keys=False, default_flow_style=False, width=120)


def record_login_keys(doc: dict, inventory) -> None:
    """Root's keys include the operator's login key where the operator logs in as root
    (roles/sshd); the copy logs in as its own account, so it is told that public key."""
    from fleetfab.roles.sshd import NoLoginKey, public_line

    if inventory.ssh.identity is None:
        return
    try:
        key = public_line(inventory.ssh.identity)
    except NoLoginKey:
        return
    for name, host in inventory.hosts.items():
        entry = (doc.get("hosts") or {}).get(name)
        if host.user != "root" or "base" not in host.roles or not isinstance(entry, dict):
            continue
        entry["vars"] = entry.get("vars") or {}
        entry["vars"]["base"] = entry["vars"].get("base") or {}
        entry["vars"]["base"].setdefault("login_key", key)


def lookup_names(inventory) -> list[str]:
    """Hosts whose keys the ops host must know in advance: not those another host
    tells at each connection (a guest's, from its VM host's console)."""
    from fleetfab.keysource import key_source

    roles = inventory.roles
    return [known_name(host) for host in inventory.hosts.values() if key_source(inventory, host, roles) is None]


def ops_known_hosts(inventory) -> str:
    """The keys the operator has verified for the fleet's hosts: the ops host never trusts on first use."""
    lines = set()
    for name in lookup_names(inventory):
        for key in known_keys(name, inventory.ssh).values():
            lines.add(f"{name} {key.get_name()} {key.get_base64()}\n")
    return "".join(sorted(lines))


def ops_source(inventory) -> str:
    """source.json: the digest of the operator's inventory the copy was made from, as every
    applying run's journal names it (fleetfab/journal.py), so the ops host can tell a host set
    from a newer inventory (fleetfab/scheduled/stale.py). Made again on the ops host from its
    own copy, it is the source.json already there: the copy stays a fixed point."""
    import hashlib
    from pathlib import Path

    if inventory.ops_copy:
        beside = Path(inventory.path).parent / Path(SOURCE).name
        try:
            return beside.read_text()
        except OSError:
            return source_text(None)
    return source_text(hashlib.sha256(Path(inventory.path).read_bytes()).hexdigest())


def source_text(digest: str | None) -> str:
    return json.dumps({"sha256": digest}) + "\n"
