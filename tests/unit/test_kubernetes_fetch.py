"""An etcd snapshot (root's, mode 600, in a 0700 folder) fetched for a non-root SSH user.

The node side is a stand-in SSH transport that answers the one command
fleetfab sends with the bytes of a file; what is checked is the command
line (sudo in front, as for every command of a non-root login) and the file
written on the operator's machine. SFTP as the login user, the old way,
could not read such a file at all.
"""

from __future__ import annotations

import io
import stat

import pytest

from fleetfab.redact import Redactor
from fleetfab.remote import Remote
from fleetfab.roles.kubernetes.cluster import FetchFailed, fetch

SNAPSHOT = "/var/backups/fleetfab/etcd/fleetfab-snapshot-20261202T000000Z.db"


class Channel:
    def __init__(self, data: bytes, code: int):
        self.data, self.code, self.command = data, code, None

    def exec_command(self, command):
        self.command = command

    def makefile(self, mode):
        return io.BytesIO(self.data)

    def recv_exit_status(self):
        return self.code

    def close(self):
        pass


class Transport:
    def __init__(self, channel):
        self.channel = channel

    def is_active(self):
        return True

    def open_session(self):
        return self.channel


class Connection:
    def __init__(self, channel):
        self.transport = Transport(channel)


def remote(data: bytes, code: int = 0, sudo: bool = True) -> tuple[Remote, Channel]:
    channel = Channel(data, code)
    return Remote("cp1", Connection(channel), Redactor(), sudo=sudo), channel


def test_a_non_root_login_reads_the_snapshot_through_sudo(tmp_path):
    node, channel = remote(b"etcd-bytes")
    fetch(node, SNAPSHOT, tmp_path / "s.db", size=10)
    assert channel.command == f"sudo -n -- sh -c 'cat -- {SNAPSHOT}'"
    assert (tmp_path / "s.db").read_bytes() == b"etcd-bytes"


def test_the_copy_here_is_private_to_the_operator(tmp_path):
    node, _ = remote(b"etcd-bytes")
    fetch(node, SNAPSHOT, tmp_path / "s.db", size=10)
    assert stat.S_IMODE((tmp_path / "s.db").stat().st_mode) == 0o600


def test_a_node_that_sends_more_than_the_file_holds_is_cut_off_and_nothing_is_kept(tmp_path):
    node, _ = remote(b"x" * 5000)
    with pytest.raises(FetchFailed, match="read 11 of 10 bytes"):
        fetch(node, SNAPSHOT, tmp_path / "s.db", size=10)
    assert not (tmp_path / "s.db").exists()


def test_a_failed_read_keeps_nothing(tmp_path):
    node, _ = remote(b"", code=1)
    with pytest.raises(FetchFailed, match="exit 1"):
        fetch(node, SNAPSHOT, tmp_path / "s.db", size=10)
    assert not (tmp_path / "s.db").exists()
