"""The ops copy's reads through a host's read program: the same answers as `sh -s`, and its refusals."""

from __future__ import annotations

import shlex
import subprocess

import pytest

from fleetfab.facts import batch_script, batch_sections, new_boundary, split_output
from fleetfab.readside.transport import CopyIsOlder, ReadRefused, ReadSession
from fleetfab.remote import RemoteError
from fleetfab.resources import File, Service
from fleetfab.session import HostLocked
from tests.unit.localchannel import LocalRemote
from tests.unit.readside_program import ReadHost, digest


class ProgramRemote(LocalRemote):
    """A remote whose every channel runs the read program, as the forced command makes it."""

    def __init__(self, host: ReadHost):
        super().__init__("host1", shlex.join(host.command()))

    def open_channel(self, command: str, doing: str = "", as_is: bool = False):
        return super().open_channel(command, doing)

    def close(self) -> None:
        for channel in self.channels:
            channel.close()


@pytest.fixture
def host(tmp_path):
    found = ReadHost(tmp_path)
    yield found
    found.close()


def probes_of(tmp_path):
    (tmp_path / "sshd_config").write_text("PermitRootLogin no\n")
    resources = [File(str(tmp_path / "sshd_config"), "PermitRootLogin no\n"), File(str(tmp_path / "absent"), "x\n"),
                 File(str(tmp_path / "secret"), "k\n", secret=True), Service("fleetfab-no-such-unit")]
    return resources, [r.shared_probe() or r.probe() for r in resources]


def session(host, lock=False) -> ReadSession:
    reader = ReadSession(ProgramRemote(host), lock=lock, timeout=30)
    reader.request()
    return reader


def test_a_batch_through_the_read_side_answers_as_sh_would(host, tmp_path):
    resources, probes = probes_of(tmp_path)
    host.install([text for _, text in batch_sections(probes)])
    boundary = new_boundary()
    reader = session(host, lock=True)
    through = split_output(reader.read(batch_sections(probes), boundary, "read"), boundary, probes)
    reader.close()
    direct = subprocess.run(["sh", "-s"], input=batch_script(probes, boundary), capture_output=True, text=True).stdout
    assert through == split_output(direct, boundary, probes)
    assert [r.compare(out) is None for r, out in zip(resources, through)][:2] == [True, False]


def test_a_section_the_host_does_not_have_means_the_copy_is_older(host, tmp_path):
    _, probes = probes_of(tmp_path)
    host.install([text for _, text in batch_sections(probes)[1:]])
    reader = session(host)
    with pytest.raises(CopyIsOlder, match="copy is older"):
        reader.read(batch_sections(probes), new_boundary(), "read")
    reader.close()


def test_one_read_out_alone_answers_as_remote_check(host):
    host.install(["echo ssh-ed25519 AAAA"])
    reader = session(host)
    assert reader.check("echo ssh-ed25519 AAAA", "host keys", "guest1's keys").stdout == "ssh-ed25519 AAAA\n"
    reader.close()


def test_a_failing_read_out_raises_as_remote_check_does(host):
    host.install(["echo no console >&2; exit 1"])
    reader = session(host)
    with pytest.raises(RemoteError, match="no console"):
        reader.check("echo no console >&2; exit 1", "host keys", "guest1's keys")
    reader.close()


def test_recorded_digests_are_read_once_and_checked(host):
    recorded = {"/etc/bind/keys/ns1.key": digest("secret")}
    host.install(["true"], secrets=recorded)
    reader = session(host)
    assert reader.recorded() == recorded
    reader.close()


def test_recorded_digests_of_another_shape_are_refused(host):
    host.install(["true"], secrets={"relative/path": "not a digest"})
    reader = session(host)
    with pytest.raises(ReadRefused, match="recorded digests are refused"):
        reader.recorded()
    reader.close()


def test_a_lock_held_by_a_changing_run_is_host_locked(host):
    import fcntl

    host.install(["true"])
    host.locks.mkdir(mode=0o700)
    with open(host.locks / "lock", "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        reader = session(host, lock=True)
        with pytest.raises(HostLocked, match="another fleetfab run holds the lock"):
            reader.confirm()
    reader.close()


def test_a_host_without_read_outs_is_refused_with_the_reason(host):
    reader = session(host, lock=True)
    with pytest.raises(HostLocked, match="no read-outs installed"):
        reader.confirm()
    reader.close()
