"""The ops key's authorized_keys line, as a real sshd reads it.

A throwaway sshd on loopback (tests/integration's) accepts a key through the
line roles/controller/keyline.py renders for a gateway of a small fleet, with
a stand-in for the forced command that prints what the client asked for.
sshd itself allows forwarding here, so the key's options alone are what
refuse: a command of the client's own, a pty, a forward anywhere but the
hosts behind the gateway, a connection from another address.
"""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import paramiko
import pytest

from fleetfab.inventory import load_inventory
from fleetfab.inventory.model import SshSettings
from fleetfab.readside import FORCED_COMMAND
from fleetfab.readside.transport import ReadSession
from fleetfab.redact import Redactor
from fleetfab.remote import Remote
from fleetfab.roles.controller.keyline import key_line
from fleetfab.ssh import connect, connection_to
from tests.integration.conftest import SSHD, free_port, keygen, start_sshd, wait_for_port

pytestmark = pytest.mark.integration

STAND_IN = "forced: asked for"


def fleet(folder: Path, gateway_port: int, behind_port: int):
    """gw, the host behind it (its jump host is gw), and the ops host: all on loopback, apart by port."""
    path = folder / "fleet.yml"
    path.write_text(f"""
ssh: {{user: root}}
groups:
  ops: {{roles: [controller], vars: {{controller: {{interval: 10min}}}}}}
hosts:
  gw: {{address: 127.0.0.1, port: {gateway_port}}}
  behind: {{address: 127.0.0.1, port: {behind_port}, jump: gw}}
  ops1: {{address: 127.0.0.1, port: {free_port()}, groups: [ops]}}
""")
    return load_inventory(path)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    """An sshd standing for the gateway, its authorized_keys the rendered line; a listener standing for the host behind it."""
    if not Path(SSHD).exists():
        pytest.fail("openssh-server is not installed: run scripts/setup")
    folder = tmp_path_factory.mktemp("ops-key")
    keygen(folder / "host_key")
    keygen(folder / "ops_key")
    forced = folder / "forced"
    forced.write_text(f'#!/bin/sh\n[ -t 0 ] && pty="with a pty" || pty="without a pty"\n'
                      f'echo "{STAND_IN} ${{SSH_ORIGINAL_COMMAND:-nothing}}, $pty"\n')
    forced.chmod(0o755)
    behind = socket.create_server(("127.0.0.1", 0))
    port = free_port()
    inventory = fleet(folder, port, behind.getsockname()[1])
    public = " ".join((folder / "ops_key.pub").read_text().split()[:2])
    line = key_line(inventory, inventory.hosts["gw"], inventory.hosts["ops1"], public, str(forced))
    (folder / "authorized_keys").write_text(line)
    Path("/run/sshd").mkdir(exist_ok=True)
    process = start_sshd(folder, port)
    try:
        wait_for_port(port)
        host_key = " ".join((folder / "host_key.pub").read_text().split()[:2])
        (folder / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_key}\n")
        yield {"port": port, "key": folder / "ops_key", "behind": behind.getsockname()[1], "line": line,
               "log": folder / f"sshd.{port}.log", "inventory": inventory,
               "ssh": SshSettings(user="root", identity=folder / "ops_key", known_hosts=folder / "known_hosts")}
    finally:
        process.terminate()
        process.wait(timeout=10)
        behind.close()


def login(gateway, source: str = "127.0.0.1") -> paramiko.SSHClient:
    sock = socket.create_connection(("127.0.0.1", gateway["port"]), source_address=(source, 0))
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    client.connect("127.0.0.1", gateway["port"], username="root", key_filename=str(gateway["key"]), sock=sock,
                   allow_agent=False, look_for_keys=False, timeout=10)
    return client


def run(client: paramiko.SSHClient, command: str) -> str:
    _, stdout, _ = client.exec_command(command, timeout=10)
    return stdout.read().decode()


@pytest.mark.parametrize("command", ["id", "sudo -n id", "sudo -n /bin/sh -c id"])
def test_whatever_the_key_asks_to_run_sshd_runs_the_forced_command(gateway, command):
    with login(gateway) as client:
        assert run(client, command) == f"{STAND_IN} {command}, without a pty\n"


def test_a_shell_asked_for_is_the_forced_command_too(gateway):
    with login(gateway) as client:
        channel = client.get_transport().open_session()
        channel.invoke_shell()
        assert channel.makefile().read().decode() == f"{STAND_IN} nothing, without a pty\n"


def test_a_pty_is_refused(gateway):
    with login(gateway) as client:
        channel = client.get_transport().open_session()
        with pytest.raises(paramiko.SSHException):
            channel.get_pty()


def test_the_key_forwards_to_the_ssh_port_of_the_host_behind_the_gateway(gateway):
    with login(gateway) as client:
        channel = client.get_transport().open_channel("direct-tcpip", ("127.0.0.1", gateway["behind"]), ("", 0))
        channel.close()


def test_the_key_forwards_nowhere_else(gateway):
    with login(gateway) as client:
        with pytest.raises(paramiko.ChannelException) as refused:
            client.get_transport().open_channel("direct-tcpip", ("127.0.0.1", gateway["port"]), ("", 0))
    assert refused.value.code == paramiko.common.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED


def test_the_key_is_refused_from_another_address_and_sshd_says_why(gateway):
    with pytest.raises(paramiko.AuthenticationException):
        login(gateway, source="127.0.0.2")
    assert "key but not from a permitted host (host=127.0.0.2, ip=127.0.0.2" in gateway["log"].read_text()


def test_a_refused_forward_is_in_sshds_log(gateway):
    with login(gateway) as client:
        with pytest.raises(paramiko.ChannelException):
            client.get_transport().open_channel("direct-tcpip", ("127.0.0.1", gateway["port"]), ("", 0))
    assert f"to connect to host 127.0.0.1 port {gateway['port']}, but the request was denied" in gateway["log"].read_text()


def test_sshd_reads_the_line_without_a_complaint(gateway, tmp_path):
    """`ssh-keygen -lf` parses an authorized_keys file as sshd does: options and key both."""
    (tmp_path / "keys").write_text(gateway["line"])
    found = subprocess.run(["ssh-keygen", "-lf", str(tmp_path / "keys")], capture_output=True, text=True)
    assert found.returncode == 0 and "ED25519" in found.stdout, found.stderr


# -- fleetfab's own client, as the ops host's copy of the inventory uses it ----------------------------


def test_the_ops_copys_client_asks_for_the_forced_command_itself_without_a_pty(gateway):
    with connect(gateway["inventory"].hosts["gw"], gateway["ssh"]) as connection:
        session = ReadSession(Remote("gw", connection, Redactor(), sudo=False), lock=False)
        session.request()
        assert session.channel.makefile().read().decode() == f"{STAND_IN} {FORCED_COMMAND}, without a pty\n"


def test_the_ops_copys_client_reaches_a_host_behind_the_gateway_through_its_permitopen(gateway):
    """fleetfab opens the channel to exactly the host's address and port, as permitopen names it (or it is refused)."""
    connection = connection_to(gateway["inventory"].hosts["behind"], gateway["ssh"])
    try:
        channel = connection._through_gateway()
        assert channel.active and not channel.closed
    finally:
        connection.close()
