"""Errors an operator acts on: what happened to the connection, or the command's own reason."""

from __future__ import annotations

import errno
import socket

import paramiko
from paramiko.ssh_exception import NoValidConnectionsError

from fleetfab.errors import ConnectionLost, NotAnswering, command_message, describe_error
from fleetfab.ssh import SilentHost, UnknownHostKey

APT_CHATTER = "debconf: delaying package configuration, since apt-utils is not installed"


def test_a_lost_connection_says_what_was_under_way():
    assert str(ConnectionLost("wireguard: install wireguard-tools")) == "connection lost while wireguard: install wireguard-tools"


def test_a_silent_host_says_how_long_it_was_given():
    assert str(NotAnswering(120)) == "host did not answer within 120 s"


def test_a_refused_connection_is_said_plainly():
    exc = NoValidConnectionsError({("198.18.0.21", 22): OSError(errno.ECONNREFUSED, "Connection refused")})
    assert describe_error(exc) == "connection refused"


def test_a_connect_timeout_names_its_limit():
    assert describe_error(socket.timeout("timed out"), connect_timeout=10) == "host did not accept a connection within 10 s"


def test_a_host_that_never_greets_is_said_as_such():
    assert describe_error(SilentHost("host did not answer the SSH handshake within 10 s")).startswith("host did not answer")


def test_a_changed_host_key_is_refused_by_name():
    exc = paramiko.BadHostKeyException("198.18.0.21", _FakeKey(), _FakeKey())
    text = describe_error(exc)
    assert text.startswith("host key CHANGED for 198.18.0.21") and "nothing was sent" in text


def test_an_unknown_host_key_keeps_its_advice():
    assert "verify it" in describe_error(UnknownHostKey("unknown host key for x (ssh-ed25519 ab); verify it and add it"))


def test_a_failed_command_is_told_by_its_error_line_not_its_last_warning():
    stderr = f"E: Unable to locate package wireguard-toolz\n{APT_CHATTER}\n"
    assert command_message(stderr) == "E: Unable to locate package wireguard-toolz"


def test_a_command_with_only_plain_lines_is_told_by_the_last_one():
    assert command_message("starting\nno route to the mirror\n") == "no route to the mirror"


def test_chatter_alone_never_becomes_the_reason():
    assert command_message(f"{APT_CHATTER}\n", "", 100) == "exit 100"


def test_a_silent_command_gives_its_exit_code():
    assert command_message("", "", 3) == "exit 3"


class _FakeKey:
    def get_name(self):
        return "ssh-ed25519"

    def get_base64(self):
        return "AAAA"

    def get_fingerprint(self):
        return b"\x00" * 16

    @property
    def fingerprint(self):
        return "SHA256:x"


def test_a_login_that_times_out_is_a_host_not_answering_not_a_refusal():
    text = describe_error(paramiko.AuthenticationException("Authentication timeout."), connect_timeout=5)
    assert text == "host did not answer within 5 s while logging in"


def test_a_refused_login_says_so():
    assert describe_error(paramiko.AuthenticationException("Authentication failed.")).startswith("SSH login refused")
