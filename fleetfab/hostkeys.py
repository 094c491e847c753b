"""First contact: a host's own keys, shown for the operator to confirm before they are trusted.

fleetfab refuses a host whose key known_hosts does not hold. Filling that
file by hand means ssh-keyscan and a careful comparison; this does the
scan and never trusts on its own: each key's fingerprint is shown as
`ssh-keygen -lf` prints it, and only the keys the operator confirms (at a
prompt, or by naming fingerprints checked out of band, such as a cloud
console's boot log or the host's own `ssh-keygen -lf /etc/ssh/*.pub`) are
written. A host behind a jump host is scanned through it, over a
connection that checks the jump host's own key first.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import paramiko

from fleetfab.inventory.model import Host, SshSettings
from fleetfab.ssh import FleetTransport, TrustOnFirstUse, connect, known_keys, known_name

#: the host key algorithms asked for, one handshake each (sshd sends one key per handshake)
KEY_TYPES = ("ssh-ed25519", "ecdsa-sha2-nistp256", "rsa-sha2-512")
#: ssh-keygen's names of the key types
LABELS = {"ssh-ed25519": "ED25519", "ecdsa-sha2-nistp256": "ECDSA", "ssh-rsa": "RSA"}


@dataclass(frozen=True)
class OfferedKey:
    """One key a host offered, with what the operator compares."""

    host: str
    name: str
    key: paramiko.PKey

    @property
    def fingerprint(self) -> str:
        return self.key.fingerprint

    def shown(self) -> str:
        """As `ssh-keygen -lf` prints a known_hosts line: bits, SHA256 fingerprint, name, (type)."""
        label = LABELS.get(self.key.get_name(), self.key.get_name())
        return f"{self.key.get_bits()} {self.fingerprint} {self.name} ({label})"

    def line(self) -> str:
        return f"{self.name} {self.key.get_name()} {self.key.get_base64()}\n"


@dataclass(frozen=True)
class Scan:
    host: str
    offered: tuple[OfferedKey, ...] = ()
    #: keys already recorded for the host that it still offers
    recorded: bool = False
    #: a recorded key that differs from the one offered, or why the host could not be scanned
    problem: str = ""


def scan(host: Host, ssh: SshSettings) -> Scan:
    """The keys `host` offers, compared with those recorded."""
    name = known_name(host)
    try:
        offered = tuple(OfferedKey(host.name, name, key) for key in offered_keys(host, ssh))
    except (OSError, EOFError, paramiko.SSHException) as exc:
        return Scan(host.name, problem=f"could not scan: {exc}")
    recorded = known_keys(name, ssh)
    for each in offered:
        old = recorded.get(each.key.get_name())
        if old is not None and old.get_base64() != each.key.get_base64():
            return Scan(host.name, offered, problem=f"its {each.key.get_name()} key is not the one recorded "
                                                    f"({old.fingerprint}, now {each.fingerprint}): nothing is written; "
                                                    "find out why before you remove the old line")
    if offered and all(each.key.get_name() in recorded for each in offered):
        return Scan(host.name, offered, recorded=True)
    return Scan(host.name, offered)


def offered_keys(host: Host, ssh: SshSettings) -> list[paramiko.PKey]:
    """One key of each type the host's sshd offers, as ssh-keyscan asks: one key-exchange per type."""
    gateway = connect(host.gateway, ssh) if host.gateway is not None else None
    try:
        found = []
        for kind in KEY_TYPES:
            key = _key_of_type(host, ssh, kind, gateway)
            if key is not None:
                found.append(key)
        return found
    finally:
        if gateway is not None:
            gateway.close()


def _key_of_type(host: Host, ssh: SshSettings, kind: str, gateway) -> paramiko.PKey | None:
    if gateway is not None:
        sock = gateway.transport.open_channel("direct-tcpip", (host.address, host.port), ("", 0),
                                              timeout=ssh.connect_timeout)
    else:
        import socket

        sock = socket.create_connection((host.address, host.port), timeout=ssh.connect_timeout)
    transport = FleetTransport(sock)
    transport.banner_timeout = transport.handshake_timeout = ssh.connect_timeout
    transport.get_security_options().key_types = (kind,)
    try:
        transport.start_client(timeout=ssh.connect_timeout)
        return transport.get_remote_server_key()
    except paramiko.SSHException as exc:
        if "Incompatible" in str(exc) or "no acceptable host key" in str(exc):
            return None  # the host offers no key of this type
        raise
    finally:
        transport.close()


def write(keys: list[OfferedKey], known_hosts: Path) -> None:
    """Append the confirmed keys to the inventory's known_hosts."""
    with TrustOnFirstUse.write_lock:
        known_hosts.parent.mkdir(parents=True, exist_ok=True)
        with known_hosts.open("a") as out:
            out.writelines(key.line() for key in keys)


def accepted(scans: list[Scan], fingerprints: set[str]) -> tuple[list[OfferedKey], set[str]]:
    """The offered keys whose fingerprints the operator named, and the named fingerprints no host offered."""
    keys = [key for s in scans if not s.problem and not s.recorded for key in s.offered if key.fingerprint in fingerprints]
    return keys, fingerprints - {key.fingerprint for s in scans for key in s.offered}
