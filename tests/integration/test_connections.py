"""fleetfab's own SSH connections against real sshd servers."""

from __future__ import annotations

import dataclasses
import socket
import threading

import paramiko
import pytest

from fleetfab.ssh import FleetTransport, connect

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


def test_a_server_that_stalls_after_its_greeting_ends_the_handshake():
    """The handshake's deadline still holds without paramiko's timer thread."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted = []

    def greet_then_stall():
        peer, _ = listener.accept()
        accepted.append(peer)
        peer.sendall(b"SSH-2.0-OpenSSH_9.2p1 stalled\r\n")

    threading.Thread(target=greet_then_stall, daemon=True).start()
    sock = socket.create_connection(listener.getsockname())
    transport = FleetTransport(sock)
    transport.handshake_timeout = 0.5
    failure = []
    client = threading.Thread(target=lambda: _start(transport, failure), daemon=True)
    try:
        client.start()
        client.join(60)
        assert not client.is_alive(), "the handshake never ended"
        assert failure and isinstance(failure[0], (paramiko.SSHException, EOFError))
        assert not transport.is_active()
    finally:
        transport.close()
        for peer in accepted:
            peer.close()
        listener.close()


def _start(transport, failure):
    try:
        transport.start_client()
    except Exception as exc:  # noqa: BLE001 - the failure is the finding
        failure.append(exc)
