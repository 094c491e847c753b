"""Every read from a host is bounded: per file, per archive, per answer, per command output.

The file probe runs real `find`, `tar` and `base64` here on files in a
temporary folder (sparse files: no disk used). The session and Remote.run
read from real shells behind local pipes (tests/unit/localchannel.py)
that stand for hosts sending without end.
"""

from __future__ import annotations

import base64
import io
import os
import subprocess
import tarfile
import time

import pytest

from fleetfab.errors import TooMuchOutput, describe_error
from fleetfab.facts import ProbeOutputError, Shared, batch_script, new_boundary, split_output
from fleetfab.redact import Redactor
from fleetfab.remote import MAX_OUTPUT, Remote
from fleetfab.resources.filestates import FILES, MAX_ARCHIVE, MAX_FILE, FileTooLarge, archive_members
from fleetfab.session import MAX_ANSWER, HostSession
from tests.unit.localchannel import LocalChannel, LocalRemote


def sh(script: str) -> str:
    return subprocess.run(["sh", "-s"], input=script, text=True, capture_output=True, timeout=60).stdout


def file_answers(paths: list[str]) -> list[str]:
    probes = [Shared(FILES, str(path)) for path in paths]
    boundary = new_boundary()
    return split_output(sh(batch_script(probes, boundary)), boundary, probes)


def sparse(path, size: int):
    with open(path, "wb") as out:
        out.truncate(size)
    return path


# -- the files' probe -------------------------------------------------------------


def test_a_file_above_the_limit_is_named_with_its_size_and_never_read(tmp_path):
    small = tmp_path / "small.conf"
    small.write_text("a = 1\n")
    huge = sparse(tmp_path / "authorized_keys", 1 << 40)
    started = time.monotonic()
    with pytest.raises(FileTooLarge) as refused:
        file_answers([small, huge])
    assert time.monotonic() - started < 10
    assert refused.value.found == {str(huge): 1 << 40}
    assert str(huge) in str(refused.value) and "1 TiB" in str(refused.value) and "1 MiB" in str(refused.value)


def test_a_file_of_exactly_the_limit_is_still_read(tmp_path):
    edge = tmp_path / "edge"
    edge.write_bytes(b"x" * MAX_FILE)
    [answer] = file_answers([edge])
    assert base64.b64decode(answer.splitlines()[1]) == b"x" * MAX_FILE


def test_a_link_to_a_huge_file_is_a_link_not_read(tmp_path):
    target = sparse(tmp_path / "huge", 1 << 40)
    (tmp_path / "link").symlink_to(target)
    assert file_answers([tmp_path / "link"]) == ["link\n"]


def test_an_archive_at_its_limit_is_cut_off_on_the_host_and_refused(tmp_path):
    paths = []
    for index in range(MAX_ARCHIVE // MAX_FILE + 1):
        path = tmp_path / f"file{index}"
        path.write_bytes(os.urandom(MAX_FILE))
        paths.append(path)
    with pytest.raises(ProbeOutputError, match="8 MiB and was cut off"):
        file_answers(paths)


def archive_of(*members: tuple[tarfile.TarInfo, bytes], fmt=tarfile.GNU_FORMAT) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=fmt) as archive:
        for info, data in members:
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_a_header_claiming_more_than_came_is_damaged_not_believed():
    info = tarfile.TarInfo("/etc/hosts")
    info.size = 4
    data = bytearray(archive_of((info, b"abcd")))
    # The size field of the first header says 4 GiB - 1 (octal, NUL-ended); the bytes stay 2 KB.
    data[124:136] = b"%011o\0" % ((4 << 30) - 1)
    checksum = sum(data[:148]) + 8 * 32 + sum(data[156:512])
    data[148:156] = b"%06o\0 " % checksum
    with pytest.raises(ProbeOutputError, match="damaged"):
        archive_members(base64.b64encode(bytes(data)).decode())


def test_a_sparse_member_is_refused_without_unpacking_its_stated_size(tmp_path):
    hole = sparse(tmp_path / "hole", 4 << 30)
    archive = subprocess.run(["tar", "--sparse", "--absolute-names", "--blocking-factor=1", "-cf", "-", str(hole)],
                             capture_output=True, check=True).stdout
    assert len(archive) < 4096  # a few blocks stand for 4 GiB
    started = time.monotonic()
    with pytest.raises(ProbeOutputError, match="damaged"):
        archive_members(base64.b64encode(archive).decode())
    assert time.monotonic() - started < 2


def test_a_line_before_the_archive_that_names_no_file_asked_for_is_an_error():
    with pytest.raises(ProbeOutputError, match="unexpected line"):
        FILES.answers("large 5 /etc/shadow\nAAAA\n", ["/etc/hosts"])


def test_an_owner_name_with_blanks_is_unknown_rather_than_shifting_the_fields():
    info = tarfile.TarInfo("/etc/hosts")
    info.size, info.uname, info.gname, info.mode = 2, "root 0 0", "root", 0o644
    encoded = base64.b64encode(archive_of((info, b"x\n"), fmt=tarfile.USTAR_FORMAT)).decode()
    [answer] = FILES.answers(encoded + "\n", ["/etc/hosts"]).values()
    assert answer.splitlines()[0] == "UNKNOWN root 644"


# -- the session's answers ---------------------------------------------------------


def test_a_session_answer_beyond_the_limit_is_cut_off_naming_the_host_and_the_limit():
    remote = LocalRemote("worker9", command="echo LOCKED; exec yes")  # a host that never stops
    session = HostSession(remote, exclusive=False, purpose="drift", timeout=30)
    session.request()
    started = time.monotonic()
    with pytest.raises(TooMuchOutput) as cut:
        session.read("echo never\necho END\n", "END", "read")
    assert time.monotonic() - started < 20
    assert describe_error(cut.value).startswith("worker9 sent more than 16 MiB while read")
    assert session.channel is None and remote.channels[0].closed
    assert MAX_ANSWER == 16 << 20


def test_a_lock_answer_without_end_is_cut_off_too():
    remote = LocalRemote("worker9", command="exec yes | tr -d '\\n'")
    session = HostSession(remote, exclusive=False, purpose="drift", timeout=30)
    session.request()
    with pytest.raises(TooMuchOutput, match="while taking the host lock"):
        session.confirm()


def test_a_refused_session_that_keeps_talking_is_heard_only_up_to_a_note():
    remote = LocalRemote("worker9", command="echo BUSY; exec yes holder")
    session = HostSession(remote, exclusive=True, purpose="bootstrap", timeout=30)
    session.request()
    with pytest.raises(Exception, match="holds the lock") as refused:
        session.confirm()
    assert len(str(refused.value)) < 1000


# -- commands' output ----------------------------------------------------------------


class LocalShells(Remote):
    """Remote.run itself, its commands run by a local shell instead of over SSH."""

    connected = True

    def __init__(self, name: str):
        super().__init__(name, connection=None, redactor=Redactor(), sudo=False)
        self.channels: list[LocalChannel] = []

    def open_channel(self, command: str, doing: str = "") -> LocalChannel:
        self.channels.append(LocalChannel(command))
        return self.channels[-1]


@pytest.mark.parametrize("stream", ["", ">&2"], ids=["standard output", "standard error"])
def test_a_command_that_prints_without_end_is_cut_off_and_fails(stream):
    remote = LocalShells("worker9")
    started = time.monotonic()
    with pytest.raises(TooMuchOutput, match=r"^worker9 sent more than 16 MiB while print for ever"):
        remote.run(f"yes {stream}\n", "test", "print for ever", timeout=30)
    assert time.monotonic() - started < 20
    assert remote.channels[0].closed


def test_a_command_just_under_the_limit_is_read_whole():
    remote = LocalShells("worker9")
    result = remote.run(f"head -c {MAX_OUTPUT} /dev/zero | tr '\\0' x\n", "test", "print a lot", timeout=30)
    assert result.ok and len(result.stdout) == MAX_OUTPUT
