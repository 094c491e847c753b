"""A refused login and a sudo that wants a password say who, where and what to fix."""

from __future__ import annotations

from pathlib import Path

import paramiko
import pytest

from fleetfab.errors import describe_error
from fleetfab.inventory.model import Host, SshSettings
from fleetfab.session import HostLocked, HostSession
from tests.unit.localchannel import LocalRemote

HOST = Host(name="web1", address="198.18.0.80", port=2222, user="admin", groups=(), roles=(), vars={}, lab={})


def test_a_refused_login_names_user_address_port_and_key():
    said = describe_error(paramiko.AuthenticationException("Authentication failed."), 10, HOST,
                          SshSettings(identity=Path("/keys/fleet_ed25519")))
    assert said.startswith("SSH login refused for admin@198.18.0.80 port 2222 with key /keys/fleet_ed25519:")
    assert "~admin/.ssh/authorized_keys" in said and "ssh.identity" in said


def test_a_refused_login_without_a_key_says_the_inventory_sets_none():
    said = describe_error(paramiko.AuthenticationException("Authentication failed."), 10, HOST, SshSettings())
    assert "with no key (the inventory sets no ssh.identity)" in said


def test_a_login_that_timed_out_is_still_a_host_that_did_not_answer():
    said = describe_error(paramiko.AuthenticationException("Authentication timeout."), 10, HOST, SshSettings())
    assert said == "host did not answer within 10 s while logging in"


def test_a_sudo_that_wants_a_password_asks_for_a_nopasswd_rule():
    # what `sudo -n` prints, on standard error, for a user whose rule asks for a password
    remote = LocalRemote("web1", command="echo 'sudo: a password is required' >&2; exit 1")
    with pytest.raises(HostLocked) as caught:
        HostSession(remote, exclusive=True, purpose="bootstrap").acquire()
    said = str(caught.value)
    assert "needs sudo without a password" in said and "NOPASSWD" in said and "web1" in said
    assert "could not take the host lock" not in said
