"""SSH connections with verified host keys.

Fabric's default accepts any host key it has not seen. fleetfab refuses an
unknown key unless the inventory explicitly trusts on first use (the lab);
a key that differs from a recorded one is always refused.
"""

from __future__ import annotations

import threading
from pathlib import Path

import paramiko
from fabric import Connection

from fleetfab.inventory.model import Host, SshSettings


class UnknownHostKey(paramiko.SSHException):
    pass


class RefuseUnknownKeys(paramiko.MissingHostKeyPolicy):
    def __init__(self, known_hosts: Path | None):
        self.known_hosts = known_hosts

    def missing_host_key(self, client, hostname, key):
        where = self.known_hosts or "~/.ssh/known_hosts"
        raise UnknownHostKey(
            f"unknown host key for {hostname} ({key.get_name()} {key.fingerprint}); "
            f"verify it and add it to {where}"
        )


class TrustOnFirstUse(paramiko.MissingHostKeyPolicy):
    """Record a key the first time a host is seen (labs only)."""

    _write_lock = threading.Lock()

    def __init__(self, known_hosts: Path):
        self.known_hosts = known_hosts

    def missing_host_key(self, client, hostname, key):
        with self._write_lock:
            self.known_hosts.parent.mkdir(parents=True, exist_ok=True)
            with self.known_hosts.open("a") as out:
                out.write(f"{hostname} {key.get_name()} {key.get_base64()}\n")
        client.get_host_keys().add(hostname, key.get_name(), key)


def host_key_policy(ssh: SshSettings) -> paramiko.MissingHostKeyPolicy:
    if ssh.trust_on_first_use and ssh.known_hosts:
        return TrustOnFirstUse(ssh.known_hosts)
    return RefuseUnknownKeys(ssh.known_hosts)


def connect(host: Host, ssh: SshSettings) -> Connection:
    """An open connection to `host`, its host key checked."""
    connect_kwargs = {"key_filename": str(ssh.identity)} if ssh.identity else {}
    connection = Connection(
        host.address,
        user=host.user,
        port=host.port,
        connect_timeout=ssh.connect_timeout,
        connect_kwargs=connect_kwargs,
    )
    client = connection.client
    client.load_system_host_keys()
    if ssh.known_hosts and ssh.known_hosts.exists():
        client.get_host_keys().load(str(ssh.known_hosts))
    client.set_missing_host_key_policy(host_key_policy(ssh))
    connection.open()
    connection.transport.set_keepalive(30)
    return connection
