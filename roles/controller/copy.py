"""The ops host's own inventory: the operator's, logging in as the drift account.

Everything but how to log in is the operator's document as it is, so the ops
host checks exactly what the operator declared. The copy is a fixed point: made
again from itself (as the ops host does when it checks itself) it is the same,
so a check from the ops host does not find its own inventory drifting.
"""

from __future__ import annotations

import copy

import yaml

from fleetfab.ssh import known_keys, known_name
from fleetfab.roles.controller.settings import ACCOUNT, KEY, KNOWN_HOSTS

HEADER = ("# Managed by fleetfab (role controller): the operator's inventory, as the ops host reads it.\n"
          "# Edit the operator's copy and bootstrap the ops host; changes made here are overwritten.\n")

#: ssh settings kept from the operator's document; the rest are the ops host's own
KEPT_SSH = ("port", "connect_timeout", "read_timeout")


def ops_document(document: dict, applies: bool) -> dict:
    doc = copy.deepcopy(document)
    ssh = {k: v for k, v in (doc.get("ssh") or {}).items() if k in KEPT_SSH}
    doc["ssh"] = {"user": ACCOUNT, **ssh, "identity": KEY, "known_hosts": KNOWN_HOSTS, "trust_on_first_use": False}
    for host in (doc.get("hosts") or {}).values():
        if isinstance(host, dict):
            host.pop("user", None)
    run = dict(doc.get("run") or {})
    run.pop("read_only", None)
    run["ops_copy"] = True
    if not applies:
        run["read_only"] = True
    doc["run"] = run
    return doc


def ops_inventory(inventory, applies: bool) -> str:
    document = yaml.safe_load(inventory.path.read_text())
    doc = ops_document(document, applies)
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
