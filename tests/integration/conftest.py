"""A throwaway sshd on loopback, with its own host key and authorized_keys."""

from __future__ import annotations

import pwd
import socket
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from fleetfab.inventory import load_inventory
from tests.integration.sandbox_role import Early, Sandbox

SSHD = "/usr/sbin/sshd"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def keygen(path: Path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"sshd did not listen on port {port}")


def empty_bashrc_binds(folder: Path) -> str:
    """Mounts of an empty file over root's ~/.bashrc, for the sshd's namespace.

    bash reads ~/.bashrc for every command sshd starts, and root's on the
    project's machines runs `pyenv init` (about 0.2 s of CPU a command).
    """
    bashrc = Path(pwd.getpwnam("root").pw_dir) / ".bashrc"
    if not bashrc.exists():
        return ""
    empty = folder / "empty.bashrc"
    empty.write_text("")
    return f"mount --bind {empty} {bashrc} && "


def start_sshd(folder: Path, port: int) -> subprocess.Popen:
    """sshd in its own mount namespace, with a private lock folder (/run/fleetfab, 0700) and journal, and an empty ~/.bashrc.

    Each server then stands for a separate host as far as fleetfab's host
    lock is concerned, although both share this machine's files.
    """
    config = folder / f"sshd_config.{port}"
    config.write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {folder}/host_key\n"
        f"AuthorizedKeysFile {folder}/authorized_keys\nPidFile {folder}/sshd.{port}.pid\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n"
        "StrictModes no\nPermitRootLogin prohibit-password\nMaxSessions 50\nMaxStartups 50\n"
    )
    # Each "host" has its own journal too, never this machine's /var/log.
    journal = "mkdir -p /var/log/fleetfab && mount -t tmpfs fleetfab-journal /var/log/fleetfab && "
    locks = "mkdir -p -m 0700 /run/fleetfab && mount -t tmpfs -o mode=0700 fleetfab-test /run/fleetfab && "
    command = f"{locks}{journal}{empty_bashrc_binds(folder)}exec {SSHD} -D -e -f {config}"
    log = open(folder / f"sshd.{port}.log", "w")
    return subprocess.Popen(["unshare", "--mount", "--propagation", "private", "sh", "-c", command], stderr=log)


@pytest.fixture(scope="session")
def sshd(tmp_path_factory):
    """Two throwaway sshd servers on loopback, sharing one host key."""
    if not Path(SSHD).exists():
        pytest.fail("openssh-server is not installed: run scripts/setup")
    folder = tmp_path_factory.mktemp("sshd")
    keygen(folder / "host_key")
    keygen(folder / "client_key")
    (folder / "authorized_keys").write_text((folder / "client_key.pub").read_text())
    Path("/run/sshd").mkdir(exist_ok=True)
    ports = [free_port(), free_port()]
    processes = [start_sshd(folder, port) for port in ports]
    try:
        for port in ports:
            wait_for_port(port)
        host_key = (folder / "host_key.pub").read_text().split()
        yield {"ports": ports, "folder": folder, "client_key": folder / "client_key", "host_key": f"{host_key[0]} {host_key[1]}"}
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)


@pytest.fixture
def fleet(sshd, tmp_path):
    """Write and load an inventory of two hosts, each its own sshd and sandbox."""

    def make(trust_on_first_use=False, known=True, token="s3cr3t-t0ken-value", greeting="hello", payload=None):
        known_hosts = tmp_path / "known_hosts"
        lines = [f"[127.0.0.1]:{port} {sshd['host_key']}\n" for port in sshd["ports"]]
        known_hosts.write_text("".join(lines) if known else "")
        document = {
            "ssh": {
                "user": "root",
                "identity": str(sshd["client_key"]),
                "known_hosts": str(known_hosts),
                "trust_on_first_use": trust_on_first_use,
            },
            "vars": {"sandbox": {"token": token, "greeting": greeting, **({"payload": str(payload)} if payload else {})}},
            "groups": {"boxes": {"roles": ["early", "sandbox"]}},
            "hosts": {
                name: {
                    "address": "127.0.0.1", "port": port, "groups": ["boxes"],
                    "vars": {"sandbox": {"root": str(tmp_path / name)}, "early": {"root": str(tmp_path / name)}},
                }
                for name, port in zip(("alpha", "beta"), sshd["ports"])
            },
        }
        path = tmp_path / "inventory.yml"
        path.write_text(yaml.safe_dump(document, sort_keys=False))
        return load_inventory(path, roles=ROLES)

    return make


ROLES = {"early": Early(), "sandbox": Sandbox()}
