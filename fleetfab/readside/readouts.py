"""Which read-outs a host's read side must hold: exactly what the ops copy's drift will ask of it.

Computed by the operator's run (trusted), for the ops host's copy of the
inventory (the controller role's `ops_copy`: the operator's, logging in as the
drift account), the same way `fleetfab.hostrun` builds its batches:

- the first read: the release probe, every role's `prepare` probes, and the
  exports the ops copy reads (never a secret one);
- the roles' read: every role's probes, up to the first role that is blocked;
- a VM host: its guests' host keys, from their consoles.

Each section of a batch (a shared kind's command over its keys, or one
probe) is one read-out, named by the sha256 of its text, with what it reads.
"""

from __future__ import annotations

import hashlib
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from fleetfab import release
from fleetfab.facts import batch_sections, probe_of, shared_keys
from fleetfab.readside.secrets import readable, secret_digests

#: what the log says a shared kind's read-out reads
MAX_WHAT = 300
#: the role that makes a host the ops host, and writes its copy of the inventory
OPS_ROLE = "controller"


@dataclass(frozen=True)
class ReadOut:
    role: str
    what: str
    text: str

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()

    def as_entry(self) -> dict:
        return {"role": self.role, "what": self.what, "text": self.text}


_cache_lock = threading.Lock()
_cache: dict[str, object] = {}
#: the temporary folders the copies were loaded from, removed when the process ends
_folders: list = []


def ops_inventory_of(inventory):
    """The ops host's copy of `inventory`, loaded as the ops host loads it (once per inventory text).

    It is loaded from a private temporary folder kept for the process (its roles given: those the
    operator's inventory found), so nothing is written beside the operator's file."""
    from fleetfab.inventory import load_inventory

    if inventory.ops_copy:
        return inventory
    text = inventory.roles[OPS_ROLE].ops_copy(inventory)
    with _cache_lock:
        found = _cache.get(text)
        if found is None:
            folder = tempfile.TemporaryDirectory(prefix="fleetfab-opscopy-")
            path = Path(folder.name) / Path(inventory.path).name
            path.write_text(text)
            found = load_inventory(path, roles=inventory.roles)
            _cache[text] = found
            _folders.append(folder)
        return found


def batch_readouts(probes: list, described: list[tuple[str, str]]) -> list[ReadOut]:
    """One read-out per section of the batch these probes make; `described`: (role, what) per probe."""
    groups = shared_keys(probes)
    kinds = {kind.name: keys for kind, keys in groups.items()}
    found = []
    for label, text in batch_sections(probes):
        if label in kinds:
            what = f"{label}: " + ", ".join(kinds[label])
            found.append(ReadOut("(shared)", what[:MAX_WHAT], text))
        else:
            role, what = described[int(label)]
            found.append(ReadOut(role, what[:MAX_WHAT], text))
    return found


def host_readouts(inventory, host_name: str, exports, host_release, roles: dict | None = None) -> tuple[dict[str, ReadOut], dict[str, str]]:
    """(digest -> ReadOut, path -> digest of each secret file) for one host, as the ops copy reads it.

    `exports`: the operator's run's book (its secrets render the secret files, whose digests are
    recorded); `host_release`: the host's release, as its first read learnt it.
    """
    from fleetfab.hostrun import export_probe, exports_of
    from fleetfab.role import RoleContext

    ops = ops_inventory_of(inventory)
    roles = ops.roles if roles is None else roles
    host = ops.hosts[host_name]
    found: list[ReadOut] = []
    # the first read (fleetfab.hostrun.HostRun.prepare)
    watched = tuple(sorted({*release.WATCHED, *(p for name in host.roles for p in roles[name].versions)}))
    probes, described = [release.probe(watched)], [("fleetfab", "release and package versions")]
    for name in host.roles:
        for resource in roles[name].prepare(RoleContext(ops, host, name)):
            probes.append(probe_of(resource))
            described.append((name, resource.key))
    for role, key, export in readable(exports_of(ops, host, roles))[0]:
        probes.append(export_probe(export))
        described.append((role, f"export {key}"))
    found += batch_readouts(probes, described)
    # the roles' read (HostRun.converge)
    resources = desired(ops, host, roles, exports, host_release)
    found += batch_readouts([probe_of(r) for _, r in resources], [(name, r.key) for name, r in resources])
    found += guest_keys(ops, host, roles)
    found.append(journal_readout())
    return {r.digest: r for r in found}, secret_digests([r for _, r in resources])


def journal_readout() -> ReadOut:
    """The time and inventory digest of the journal's newest line: the scheduled check asks a drifting
    host for it, to tell a copy older than the host's last bootstrap from drift (fleetfab.scheduled.stale)."""
    from fleetfab.scheduled.stale import journal_script

    return ReadOut("fleetfab", "the journal's newest inventory", journal_script())


def desired(ops, host, roles: dict, exports, host_release) -> list[tuple[str, object]]:
    """(role, resource) for every role up to the first one whose state cannot be known (as HostRun)."""
    from fleetfab.exports import MissingExport
    from fleetfab.role import RoleContext

    found = []
    for name in host.roles:
        ctx = RoleContext(ops, host, name, exports, release=host_release)
        try:
            found += [(name, r) for r in list(roles[name].resources(ctx))]
        except MissingExport:
            break
    return found


def guest_keys(ops, host, roles: dict) -> list[ReadOut]:
    """A VM host tells its guests' host keys (fleetfab.keysource): one read-out a guest."""
    from fleetfab.keysource import key_source

    found = []
    for other in ops.hosts.values():
        source = key_source(ops, other, roles)
        if source is not None and source.host == host.name:
            found.append(ReadOut("vmhost", f"host keys of {other.name} from its console", source.script))
    return found
