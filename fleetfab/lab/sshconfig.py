"""Render the ssh_config that fab, testinfra and operators use for the lab.

Machines are reached at their inventory address (not Vagrant's forwarded
ports), with the lab's own key and known_hosts; a VM guest on its VM host's
private network through that host (ProxyJump). `accept-new` records a
machine's key the first time it is seen and refuses a changed one: the lab's
known_hosts is cleared when machines are destroyed, never silently ignored.
"""

from __future__ import annotations

from pathlib import Path


def host_block(name: str, address: str, user: str, port: int, identity: Path, known_hosts: Path,
               jump: str | None = None) -> str:
    return "\n".join([
        f"Host {name}",
        *([f"  ProxyJump {jump}"] if jump else []),
        f"  HostName {address}",
        f"  User {user}",
        f"  Port {port}",
        f"  IdentityFile {identity}",
        "  IdentitiesOnly yes",
        f"  UserKnownHostsFile {known_hosts}",
        "  StrictHostKeyChecking accept-new",
        "",
    ])


def render(inventory, identity: Path, known_hosts: Path) -> str:
    """ssh_config text for every inventory host; the inventory's ssh paths win."""
    identity = inventory.ssh.identity or identity
    known_hosts = inventory.ssh.known_hosts or known_hosts
    blocks = [
        host_block(h.name, h.address, h.user, h.port, identity, known_hosts, h.gateway.name if h.gateway else None)
        for h in inventory.hosts.values()
    ]
    header = f"# Written by `fab lab.ssh-config` from {inventory.path}; do not edit.\n\n"
    return header + "\n".join(blocks)
