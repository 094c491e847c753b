"""Hosts reached through jump hosts (`jump` in the inventory), against real sshd servers.

Each hop is its own SSH connection inside a channel of the previous one,
and each checks its own host's key: a wrong key at any hop is refused.
"""

from __future__ import annotations

import shutil

import paramiko
import pytest
import yaml

from fleetfab.inventory import load_inventory
from fleetfab.ssh import connect
from tests.integration.conftest import free_port, keygen, start_sshd, wait_for_port

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def third_sshd(sshd, tmp_path_factory):
    """A third server with a host key of its own (the two others share one)."""
    folder = tmp_path_factory.mktemp("sshd-own-key")
    keygen(folder / "host_key")
    shutil.copy(sshd["folder"] / "authorized_keys", folder / "authorized_keys")
    port = free_port()
    process = start_sshd(folder, port)
    try:
        wait_for_port(port)
        kind, data = (folder / "host_key.pub").read_text().split()[:2]
        yield {"port": port, "host_key": f"{kind} {data}"}
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def jump_fleet(sshd, third_sshd, tmp_path):
    """An inventory of outer, inner and web (the third server), with the given jumps and known keys."""

    def make(jumps: dict, keys: dict | None = None):
        ports = {"outer": sshd["ports"][0], "inner": sshd["ports"][1], "web": third_sshd["port"]}
        keys = {"outer": sshd["host_key"], "inner": sshd["host_key"], "web": third_sshd["host_key"], **(keys or {})}
        known_hosts = tmp_path / "known_hosts"
        known_hosts.write_text("".join(f"[127.0.0.1]:{ports[n]} {keys[n]}\n" for n in ports))
        document = {
            "ssh": {"user": "root", "identity": str(sshd["client_key"]), "known_hosts": str(known_hosts)},
            "hosts": {n: {"address": "127.0.0.1", "port": p, **({"jump": jumps[n]} if n in jumps else {})}
                      for n, p in ports.items()},
        }
        path = tmp_path / "inventory.yml"
        path.write_text(yaml.safe_dump(document, sort_keys=False))
        return load_inventory(path, roles={})

    return make


def ran_on(connection, command: str) -> str:
    channel = connection.transport.open_session()
    channel.exec_command(command)
    return channel.makefile("r").read().decode()


def test_a_host_with_a_jump_is_reached_inside_the_jump_hosts_connection(jump_fleet, third_sshd):
    inventory = jump_fleet({"web": "outer"})
    with connect(inventory.hosts["web"], inventory.ssh) as connection:
        assert connection.transport.sock.get_transport() is connection.gateway.transport
        assert connection.gateway.host.name == "outer"
        assert ran_on(connection, "echo $SSH_CONNECTION").split()[3] == str(third_sshd["port"])


def test_a_chain_of_jump_hosts_is_followed_hop_by_hop(jump_fleet):
    inventory = jump_fleet({"web": "inner", "inner": "outer"})
    with connect(inventory.hosts["web"], inventory.ssh) as connection:
        inner = connection.gateway
        outer = inner.gateway
        assert (inner.host.name, outer.host.name, outer.gateway) == ("inner", "outer", None)
        assert connection.transport.sock.get_transport() is inner.transport
        assert inner.transport.sock.get_transport() is outer.transport


def test_a_wrong_key_for_the_target_is_refused_behind_a_good_jump_host(jump_fleet, sshd):
    inventory = jump_fleet({"web": "outer"}, keys={"web": sshd["host_key"]})
    with pytest.raises(paramiko.BadHostKeyException):
        connect(inventory.hosts["web"], inventory.ssh)


def test_a_wrong_key_for_a_jump_host_in_the_chain_is_refused(jump_fleet, third_sshd):
    inventory = jump_fleet({"web": "inner", "inner": "outer"}, keys={"inner": third_sshd["host_key"]})
    with pytest.raises(paramiko.BadHostKeyException) as refused:
        connect(inventory.hosts["web"], inventory.ssh)
    assert refused.value.expected_key.get_base64() == third_sshd["host_key"].split()[1]
