"""Throwaway sshd endpoints on loopback, each standing for a separate host.

Every endpoint is one `sshd -D` in its own mount namespace, where
- /run/fleetfab is a private tmpfs (0700), so each has its own fleetfab host lock;
- the login user's ~/.bashrc is an empty file: bash reads ~/.bashrc for
  every command sshd starts, and root's on the bench machines runs
  `pyenv init` (about 0.2 s of CPU a command), which would be measured as
  if it were the tools' cost.
All endpoints share one host key, one client key and one configuration;
each differs only by its port. They die with the bench (parent-death
signal), also when the bench itself is killed.
"""

from __future__ import annotations

import ctypes
import os
import pwd
import shlex
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

SSHD = "/usr/sbin/sshd"
ADDRESS = "127.0.0.1"
#: below Linux's default ephemeral range (32768-60999), so no client socket takes one
FIRST_PORT = 20000
PR_SET_PDEATHSIG = 1


class EndpointError(RuntimeError):
    pass


@dataclass(frozen=True)
class Keys:
    host_key: Path
    client_key: Path
    authorized_keys: Path

    def host_key_line(self) -> str:
        """'type base64' of the shared host key, for known_hosts."""
        kind, body = self.host_key.with_suffix(".pub").read_text().split()[:2]
        return f"{kind} {body}"


def make_keys(folder: Path) -> Keys:
    """One host key and one client key for every endpoint, made once per folder."""
    folder.mkdir(parents=True, exist_ok=True)
    keys = Keys(folder / "host_key", folder / "client_key", folder / "authorized_keys")
    for key in (keys.host_key, keys.client_key):
        if not key.exists():
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "fleetfab-scale", "-f", str(key)], check=True)
    keys.authorized_keys.write_text(keys.client_key.with_suffix(".pub").read_text())
    return keys


def sshd_config(keys: Keys, max_startups: int = 100) -> str:
    """The endpoints' shared settings: key login as root only, nothing per login."""
    return (
        f"ListenAddress {ADDRESS}\nHostKey {keys.host_key}\nAuthorizedKeysFile {keys.authorized_keys}\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n"
        "PermitRootLogin prohibit-password\nUseDNS no\nPrintMotd no\nPrintLastLog no\n"
        f"MaxSessions 50\nMaxStartups {max_startups}\nPidFile none\n"
        "Subsystem sftp internal-sftp\n"  # pyinfra copies files over SFTP
    )


def free_ports(count: int, first: int = FIRST_PORT, limit: int = 32767) -> list[int]:
    """`count` loopback ports from `first` on that nothing listens on now."""
    ports = []
    for port in range(first, limit + 1):
        if len(ports) == count:
            break
        if _bindable(port):
            ports.append(port)
    if len(ports) < count:
        raise EndpointError(f"only {len(ports)} free ports in {first}-{limit}, {count} needed")
    return ports


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind((ADDRESS, port))
        except OSError:
            return False
    return True


def login_rc_files(user: str = "root") -> list[str]:
    """The startup files bash reads for a command started by sshd, that exist."""
    home = pwd.getpwnam(user).pw_dir
    return [p for p in (os.path.join(home, ".bashrc"),) if os.path.exists(p)]


def namespace_script(config: Path, port: int, empty: Path, rc_files: list[str]) -> str:
    """What runs inside `unshare --mount`: a private lock folder, empty rc files, then sshd."""
    binds = "".join(f"mount --bind {shlex.quote(str(empty))} {shlex.quote(rc)} && " for rc in rc_files)
    return (
        f"mkdir -p -m 0700 /run/fleetfab && mount -t tmpfs -o mode=0700 fleetfab-scale /run/fleetfab && {binds}"
        f"exec {SSHD} -D -e -f {shlex.quote(str(config))} -o Port={port}"
    )


def _die_with_parent() -> None:
    """Runs in the child before exec: SIGTERM when the bench goes, however it goes."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Endpoints:
    """N endpoints, started together and always stopped together (a context manager)."""

    def __init__(self, folder: Path, count: int, first_port: int = FIRST_PORT):
        self.folder = folder.resolve()  # sshd resolves relative paths from /
        self.count = count
        self.first_port = first_port
        self.keys: Keys | None = None
        self.ports: list[int] = []
        self.processes: list[subprocess.Popen] = []

    def __enter__(self) -> "Endpoints":
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> bool:
        self.stop()
        return False

    def start(self, timeout: float = 60.0) -> None:
        if not Path(SSHD).exists():
            raise EndpointError(f"{SSHD} is missing: install openssh-server")
        self.folder.mkdir(parents=True, exist_ok=True)
        Path("/run/sshd").mkdir(exist_ok=True)
        self.keys = make_keys(self.folder / "keys")
        config = self.folder / "sshd_config"
        config.write_text(sshd_config(self.keys))
        empty = self.folder / "empty.bashrc"
        empty.write_text("")
        rc_files = login_rc_files()
        self.ports = free_ports(self.count, self.first_port)
        with (self.folder / "sshd.log").open("a") as log:
            for port in self.ports:
                self.processes.append(self._spawn(namespace_script(config, port, empty, rc_files), log))
        self.wait_until_listening(timeout)

    def _spawn(self, script: str, log) -> subprocess.Popen:
        return subprocess.Popen(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log,
            start_new_session=True, preexec_fn=_die_with_parent,
        )

    def wait_until_listening(self, timeout: float) -> None:
        """Polls the kernel's socket table: connecting would start an sshd session each time."""
        deadline = time.monotonic() + timeout
        while True:
            waiting = set(self.ports) - listening_ports(Path("/proc/net/tcp").read_text())
            if not waiting:
                return
            for port, process in zip(self.ports, self.processes):
                if port in waiting and process.poll() is not None:
                    raise EndpointError(f"the endpoint on port {port} exited ({process.returncode}); see {self.folder / 'sshd.log'}")
            if time.monotonic() > deadline:
                raise EndpointError(f"{len(waiting)} endpoints did not listen within {timeout:g} s (ports {sorted(waiting)[:5]}...)")
            time.sleep(0.05)

    def stop(self, timeout: float = 10.0) -> None:
        """Each endpoint's whole process group: the listener and any session left."""
        for process in self.processes:
            if process.poll() is None:
                _signal_group(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for process in self.processes:
            try:
                process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                _signal_group(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
        self.processes = []


def listening_ports(proc_net_tcp: str, address: str = ADDRESS) -> set[int]:
    """Ports listening on `address`, from the text of /proc/net/tcp."""
    wanted = socket.inet_aton(address)[::-1].hex().upper()  # little-endian hex, as the kernel writes it
    ports = set()
    for row in proc_net_tcp.splitlines()[1:]:
        fields = row.split()
        if len(fields) > 3 and fields[3] == "0A":  # TCP_LISTEN
            host, _, port = fields[1].partition(":")
            if host == wanted:
                ports.add(int(port, 16))
    return ports


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass
