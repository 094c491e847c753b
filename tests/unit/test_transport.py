"""fleetfab's paramiko transport: the same protocol, less of the controller's CPU a connection."""

from __future__ import annotations

import socket

import paramiko
import pytest

from fleetfab.ssh import DeadlinePacketizer, FleetTransport


@pytest.fixture
def packetizer():
    ours, theirs = socket.socketpair()
    ours.settimeout(0.05)
    yield DeadlinePacketizer(ours)
    ours.close()
    theirs.close()


def test_gcm_is_offered_first_and_every_other_cipher_still_follows():
    offered = FleetTransport._preferred_ciphers
    assert offered[:2] == ("aes128-gcm@openssh.com", "aes256-gcm@openssh.com")
    assert sorted(offered) == sorted(paramiko.Transport._preferred_ciphers)


def test_a_transport_uses_the_deadline_packetizer():
    ours, theirs = socket.socketpair()
    try:
        assert isinstance(FleetTransport(ours).packetizer, DeadlinePacketizer)
    finally:
        ours.close()
        theirs.close()


def test_no_handshake_started_never_times_out(packetizer):
    assert not packetizer.handshake_timed_out()


def test_a_handshake_past_its_deadline_has_timed_out(packetizer):
    packetizer.start_handshake(0)
    assert packetizer.handshake_timed_out()
    with pytest.raises(EOFError):
        packetizer.read_all(16)


def test_a_handshake_within_its_deadline_has_not_timed_out(packetizer):
    packetizer.start_handshake(3600)
    assert not packetizer.handshake_timed_out()


def test_a_completed_handshake_never_times_out(packetizer):
    packetizer.start_handshake(0)
    packetizer.complete_handshake()
    assert not packetizer.handshake_timed_out()


def test_a_restarted_handshake_keeps_its_first_deadline(packetizer):
    packetizer.start_handshake(0)
    packetizer.start_handshake(3600)
    assert packetizer.handshake_timed_out()
