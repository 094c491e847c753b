"""SSH connections with verified host keys.

Fabric's default accepts any host key it has not seen. fleetfab refuses an
unknown key unless the inventory explicitly trusts on first use (the lab);
a key that differs from a recorded one is always refused.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import paramiko

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

    #: held while known_hosts is written (here, and by fleetfab.keysource)
    write_lock = threading.Lock()

    def __init__(self, known_hosts: Path):
        self.known_hosts = known_hosts

    def missing_host_key(self, client, hostname, key):
        with self.write_lock:
            self.known_hosts.parent.mkdir(parents=True, exist_ok=True)
            with self.known_hosts.open("a") as out:
                out.write(f"{hostname} {key.get_name()} {key.get_base64()}\n")
        client.get_host_keys().add(hostname, key.get_name(), key)


def host_key_policy(ssh: SshSettings) -> paramiko.MissingHostKeyPolicy:
    if ssh.trust_on_first_use and ssh.known_hosts:
        return TrustOnFirstUse(ssh.known_hosts)
    return RefuseUnknownKeys(ssh.known_hosts)


SYSTEM_KNOWN_HOSTS = Path("~/.ssh/known_hosts").expanduser()

# paramiko logs its own errors ("Secsh channel 0 open FAILED") as it raises
# them; fleetfab reports each one in its own words, once, on its host's line.
logging.getLogger("paramiko").addHandler(logging.NullHandler())


class KnownHosts:
    """A known_hosts file's keys by host name: a lookup costs the same whatever the file's size.

    paramiko's `HostKeys.lookup` compares the name with every line, so one
    lookup per connection grew with the square of the fleet. Plain names
    are indexed; hashed ones (`|1|salt|hash`) can only be tried one by one,
    as paramiko does. For each key type the first line in the file wins, as
    with paramiko.
    """

    def __init__(self, lines=()):
        self._plain: dict[str, dict[str, tuple[int, paramiko.PKey]]] = {}
        self._hashed: list[tuple[int, str, paramiko.PKey]] = []
        for order, entry in enumerate(_entries(lines)):
            for name in entry.hostnames:
                if name.startswith("|1|"):
                    self._hashed.append((order, name, entry.key))
                else:
                    self._plain.setdefault(name, {}).setdefault(entry.key.get_name(), (order, entry.key))

    @classmethod
    def read(cls, path: Path) -> "KnownHosts":
        with open(path) as lines:
            return cls(lines)

    def lookup(self, name: str) -> dict[str, paramiko.PKey]:
        """Key type -> key recorded for `name`; empty if none."""
        found = dict(self._plain.get(name, {}))
        for order, hashed, key in self._hashed:
            kind = key.get_name()
            if (kind not in found or order < found[kind][0]) and _hashed_name_is(hashed, name):
                found[kind] = (order, key)
        return {kind: key for kind, (_, key) in found.items()}


def _entries(lines):
    """The lines paramiko's HostKeys.load would keep, parsed the same way."""
    for lineno, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            entry = paramiko.hostkeys.HostKeyEntry.from_line(line, lineno)
        except paramiko.SSHException:
            continue
        if entry is not None:
            yield entry


def _hashed_name_is(hashed: str, name: str) -> bool:
    if name.startswith("|1|"):
        return False
    return paramiko.util.constant_time_bytes_eq(paramiko.HostKeys.hash_host(name, hashed), hashed)


class ParsedFiles:
    """Files parsed once while they stay unchanged (same mtime and size).

    The results are only read afterwards, so host threads share them.
    """

    def __init__(self, parse):
        self.parse = parse
        self._parsed: dict[Path, tuple[tuple[int, int], object]] = {}
        self._lock = threading.Lock()

    def get(self, path: Path):
        status = path.stat()
        stamp = (status.st_mtime_ns, status.st_size)
        with self._lock:
            cached = self._parsed.get(path)
            if cached is None or cached[0] != stamp:
                cached = (stamp, self.parse(path))
                self._parsed[path] = cached
            return cached[1]


_known_hosts_files = ParsedFiles(KnownHosts.read)


def parsed_known_hosts(path: Path) -> KnownHosts:
    """A known_hosts file, parsed once while it stays unchanged.

    paramiko's parser builds every key and compares each line with all the
    lines before it: done for every connection, a fleet's file cost more CPU
    than the rest of a drift. A file that cannot be read knows no host, so
    its hosts' keys are refused.
    """
    try:
        return _known_hosts_files.get(path)
    except OSError:
        return KnownHosts()


def _load_identity(path: Path) -> paramiko.PKey | None:
    """The key as paramiko's SSHClient loads a key file: each key type in its order, and a certificate beside it."""
    for kind in (paramiko.RSAKey, paramiko.ECDSAKey, paramiko.Ed25519Key):
        try:
            key = kind.from_private_key_file(str(path))
        except (paramiko.SSHException, ValueError):
            continue
        certificate = Path(f"{path}-cert.pub")
        if certificate.is_file():
            key.load_certificate(str(certificate))
        return key
    return None


_identity_files = ParsedFiles(_load_identity)


def loaded_identity(path: Path) -> paramiko.PKey | None:
    """The identity's private key, read once while its file stays unchanged.

    Given a key file, paramiko reads it for every connection, as RSA, then
    ECDSA, then Ed25519: three reads and parses for an ed25519 key. None
    when it cannot be read without help (a passphrase): paramiko is then
    given the file, and says why, as before.
    """
    try:
        return _identity_files.get(Path(path))
    except (OSError, paramiko.SSHException, ValueError):
        return None


def known_keys(name: str, ssh: SshSettings) -> dict:
    """The recorded keys of `name` (key type -> key), the user's own file first, as ssh reads them."""
    from fleetfab.keysource import learned

    told = learned(name)
    if told:
        # told by the host that can see it boot (a guest's VM host): these alone
        return told
    files = [SYSTEM_KNOWN_HOSTS] + ([ssh.known_hosts] if ssh.known_hosts else [])
    for path in files:
        found = parsed_known_hosts(path).lookup(name)
        if found:
            return found
    return {}


class DeadlinePacketizer(paramiko.Packetizer):
    """paramiko's packetizer, timing the handshake against a deadline instead of a timer thread.

    paramiko starts a `threading.Timer` for every connection only to flag a
    handshake that takes too long, and checks the flag before each read of
    the socket. Comparing the clock at those same reads gives the same
    limit without a thread to start, wake and cancel: about a tenth of a
    converged host's CPU on the controller, fifty connections at once.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._handshake_deadline: float | None = None
        self._handshake_done = False

    def start_handshake(self, timeout):
        if self._handshake_deadline is None:
            self._handshake_deadline = time.monotonic() + float(timeout)

    def handshake_timed_out(self):
        deadline = self._handshake_deadline
        return deadline is not None and not self._handshake_done and time.monotonic() > deadline

    def complete_handshake(self):
        if self._handshake_deadline is not None:
            self._handshake_done = True


class FleetTransport(paramiko.Transport):
    """paramiko's transport, with what costs the controller CPU at every connection left out.

    - AES-GCM is offered first: paramiko lists it last, and an OpenSSH
      server takes the client's first choice it also knows. With CTR and an
      HMAC, paramiko checks every packet's MAC in a pure-Python comparison
      (about 0.5 ms a connection). A server without GCM (OpenSSH before
      6.2) still agrees on CTR.
    - The handshake's time limit is a deadline (`DeadlinePacketizer`).
    - sshd's debug message at each login (the key's options) is escaped for
      paramiko's log only when that log is on.
    """

    _preferred_ciphers = tuple(sorted(paramiko.Transport._preferred_ciphers, key=lambda name: "-gcm@" not in name))

    def __init__(self, sock, **kwargs):
        kwargs.setdefault("packetizer_class", DeadlinePacketizer)
        super().__init__(sock, **kwargs)

    def _parse_debug(self, m):
        if self.logger.isEnabledFor(logging.DEBUG):
            super()._parse_debug(m)


class HostConnection:
    """One host's SSH connection, set up from the inventory alone.

    paramiko's client, opened as Fabric's Connection opens it, without the
    rest of Fabric's Connection. The inventory says how a host is reached
    (address, port, user, identity, known_hosts, gateway): the operator's
    ssh_config is not read, and no configuration is shared between host
    threads. Fabric's rebuilt itself at each connection while other threads
    read it (hosts failed at random with "No attribute or config key found
    for 'gateway'"), and making a Fabric Connection cost the controller
    about a tenth of a host's whole drift.
    """

    def __init__(self, host: Host, connect_kwargs: dict, gateway: "HostConnection | None" = None):
        self.host = host
        self.connect_kwargs = connect_kwargs
        self.gateway = gateway
        self.client = paramiko.SSHClient()
        self.transport: paramiko.Transport | None = None

    def open(self) -> None:
        if self.transport is not None and self.transport.is_active():
            return
        sock = self._through_gateway() if self.gateway is not None else None
        self.client.connect(self.host.address, port=self.host.port, username=self.host.user, sock=sock,
                            **self.connect_kwargs)
        self.transport = self.client.get_transport()

    def _through_gateway(self) -> paramiko.Channel:
        """A channel from the gateway to this host's sshd, as ssh's ProxyJump opens."""
        self.gateway.open()
        return self.gateway.transport.open_channel("direct-tcpip", (self.host.address, self.host.port), ("", 0))

    def get(self, remote: str, local: str) -> None:
        """Copy a file from the host (an etcd snapshot) over SFTP on this connection."""
        with self.client.open_sftp() as sftp:
            sftp.get(remote, local)

    def close(self) -> None:
        """Hang up, and hang up the gateway too (Fabric's Connection left it open)."""
        self.client.close()
        self.transport = None
        if self.gateway is not None:
            self.gateway.close()

    def __enter__(self) -> "HostConnection":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _login_key(ssh: SshSettings) -> dict:
    """The identity already loaded, or its file for paramiko to load (a key it needs help with)."""
    identity = loaded_identity(ssh.identity) if ssh.identity else None
    if identity is not None:
        return {"pkey": identity}
    return {"key_filename": [str(ssh.identity)]} if ssh.identity else {}


def connection_to(host: Host, ssh: SshSettings) -> HostConnection:
    """A connection to `host`, not yet open, that knows only this host's recorded keys.

    paramiko then asks the server for a key of that type, and refuses one
    that differs.
    """
    connect_kwargs = {
        **_login_key(ssh),
        # The inventory's key alone: no agent's keys (an agent forwarded to
        # the operator is usable by whoever controls the agent's socket), no
        # keys picked up from ~/.ssh.
        "allow_agent": False,
        "look_for_keys": False,
        "timeout": ssh.connect_timeout,
        # A frozen host accepts TCP (its kernel answers) but never greets us.
        "banner_timeout": ssh.connect_timeout,
        "auth_timeout": ssh.connect_timeout,
        # paramiko waits an hour for a channel by default: a host frozen
        # after the login would hold the run that long.
        "channel_timeout": ssh.connect_timeout,
        "transport_factory": FleetTransport,
    }
    # A guest on its VM host's private network is reached through that host.
    gateway = connection_to(host.gateway, ssh) if host.gateway is not None else None
    connection = HostConnection(host, connect_kwargs, gateway)
    name = known_name(host)
    for key_type, key in known_keys(name, ssh).items():
        connection.client.get_host_keys().add(name, key_type, key)
    connection.client.set_missing_host_key_policy(host_key_policy(ssh))
    return connection


def known_name(host: Host) -> str:
    """The name known_hosts records a host under."""
    return host.address if host.port == 22 else f"[{host.address}]:{host.port}"


#: seconds a host that has just booted may take to accept SSH connections
SSHD_START = 60.0


def connect_when_up(host: Host, ssh: SshSettings) -> HostConnection:
    """`connect`, retried while a host that has just booted still refuses or ignores connections."""
    deadline = time.monotonic() + SSHD_START
    while True:
        try:
            return connect(host, ssh)
        except (paramiko.BadHostKeyException, paramiko.AuthenticationException, UnknownHostKey):
            raise
        except (OSError, paramiko.SSHException):
            if time.monotonic() >= deadline:
                raise
            time.sleep(2)


class SilentHost(paramiko.SSHException):
    """The host took the TCP connection and then said nothing."""


def connect(host: Host, ssh: SshSettings) -> HostConnection:
    """An open connection to `host`, its host key checked."""
    connection = connection_to(host, ssh)
    try:
        connection.open()
    except (paramiko.BadHostKeyException, paramiko.AuthenticationException, UnknownHostKey):
        raise
    except (paramiko.SSHException, EOFError) as exc:
        if _never_greeted(exc):
            raise SilentHost(f"host did not answer the SSH handshake within {ssh.connect_timeout:g} s") from None
        raise
    connection.transport.set_keepalive(30)
    return connection


def _never_greeted(exc: Exception) -> bool:
    text = str(exc)
    return "banner" in text or "No existing session" in text or "handshake" in text
