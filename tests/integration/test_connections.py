"""fleetfab's own SSH connections against real sshd servers."""

from __future__ import annotations

import dataclasses

import pytest

from fleetfab.ssh import connect

pytestmark = pytest.mark.integration


def test_a_connection_agrees_on_an_aead_cipher(fleet):
    inventory = fleet()
    with connect(inventory.hosts["alpha"], inventory.ssh) as connection:
        assert connection.transport.local_cipher == "aes128-gcm@openssh.com"
        assert connection.transport.remote_cipher == "aes128-gcm@openssh.com"


def test_a_host_behind_a_gateway_is_reached_through_it(fleet):
    inventory = fleet()
    gateway = inventory.hosts["alpha"]
    guest = dataclasses.replace(inventory.hosts["beta"], gateway=gateway)
    with connect(guest, inventory.ssh) as connection:
        # the guest's SSH runs inside a channel of the gateway's connection
        assert connection.transport.sock.get_transport() is connection.gateway.transport
        channel = connection.transport.open_session()
        channel.exec_command("echo $SSH_CONNECTION")
        assert channel.makefile("r").read().decode().split()[3] == str(guest.port)


def test_hanging_up_a_guest_hangs_up_its_gateway(fleet):
    inventory = fleet()
    guest = dataclasses.replace(inventory.hosts["beta"], gateway=inventory.hosts["alpha"])
    connection = connect(guest, inventory.ssh)
    gateway_transport = connection.gateway.transport
    connection.close()
    assert not gateway_transport.is_active()
