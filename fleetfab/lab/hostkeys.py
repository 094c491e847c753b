"""Host keys of docker lab machines, read from the machines themselves.

A lab inventory may trust on first use, but then which hosts' keys are known
depends on which connections a run happened to make first, and a copy of
known_hosts (the ops host's, roles/controller) would differ from one run to
the next. With the docker provider the key can be read out of band, from the
container's own files, which is also a real check rather than trust.
"""

from __future__ import annotations

from pathlib import Path

from fleetfab.lab.proc import run
from fleetfab.ssh import known_name

KEY_FILE = "/etc/ssh/ssh_host_ed25519_key.pub"


def container_id(vagrant_dir: Path, name: str) -> str | None:
    path = vagrant_dir / ".vagrant" / "machines" / name / "docker" / "id"
    return path.read_text().strip() if path.exists() else None


def recorded_names(known_hosts: Path) -> set[str]:
    if not known_hosts.exists():
        return set()
    names = set()
    for line in known_hosts.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            names.update(line.split()[0].split(","))
    return names


def read_container_key(ident: str) -> str:
    return run(["docker", "exec", ident, "cat", KEY_FILE], quiet=True).stdout


def record_host_keys(hosts, vagrant_dir: Path, known_hosts: Path, read=read_container_key) -> list[str]:
    """Add each machine's ed25519 host key to known_hosts unless its name is there; return who was added."""
    present = recorded_names(known_hosts)
    lines, added = [], []
    for host in hosts:
        name = known_name(host)
        ident = container_id(vagrant_dir, host.name)
        if name in present or ident is None:
            continue
        key = read(ident).split()
        lines.append(f"{name} {key[0]} {key[1]}\n")
        added.append(host.name)
    if lines:
        known_hosts.parent.mkdir(parents=True, exist_ok=True)
        with known_hosts.open("a") as out:
            out.writelines(lines)
    return added
