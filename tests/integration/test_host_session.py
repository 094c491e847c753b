"""The host session over a real sshd: one channel that holds the lock and answers reads."""

from __future__ import annotations

import threading
import time

import pytest

from fleetfab.redact import Redactor
from fleetfab.remote import Remote
from fleetfab.errors import NotAnswering
from fleetfab.session import HostLocked, HostSession, SessionLost
from fleetfab.ssh import connect

pytestmark = pytest.mark.integration

END = "END-OF-ANSWER"


@pytest.fixture
def open_session(fleet):
    """Sessions on host alpha, each over its own SSH connection; all closed afterwards."""
    inventory = fleet()
    opened = []

    def make(exclusive: bool, purpose: str = "test", timeout: float | None = None, read_wait: int = 1) -> HostSession:
        remote = Remote("alpha", connect(inventory.hosts["alpha"], inventory.ssh), Redactor(), sudo=False)
        session = HostSession(remote, exclusive=exclusive, purpose=purpose, timeout=timeout, read_wait=read_wait)
        opened.append(session)
        return session

    yield make
    for session in opened:
        session.release()
        session.remote.close()


def answer(session: HostSession, script: str) -> str:
    return session.read(f"{script}\necho {END}\n", END, "read").removesuffix(f"\n{END}\n")


def test_the_first_read_travels_with_the_lock_request_and_confirms_it(open_session):
    session = open_session(exclusive=True)
    session.request()
    assert answer(session, "echo hello") == "hello"
    assert session.confirmed
    assert dict(session.remote.round_trips) == {"read": 1}


def test_every_read_of_a_session_runs_in_the_same_shell(open_session):
    session = open_session(exclusive=False)
    session.acquire()
    first, second = answer(session, "echo $$"), answer(session, "echo $$")
    assert first == second and first.isdigit()


def test_an_answer_may_be_the_end_line_alone(open_session):
    session = open_session(exclusive=False)
    session.acquire()
    assert session.read(f"echo {END}\n", END, "read") == f"{END}\n"
    assert answer(session, "echo next") == "next"


def test_a_long_answer_arriving_in_many_pieces_is_read_whole_and_in_order(open_session):
    session = open_session(exclusive=False)
    session.acquire()
    lines = answer(session, "seq 1 300000").split("\n")
    assert lines == [str(n) for n in range(1, 300001)]
    assert answer(session, "echo next") == "next"


def test_a_refused_session_never_runs_the_scripts_sent_ahead(open_session, tmp_path):
    open_session(exclusive=True, purpose="bootstrap").acquire()
    late = open_session(exclusive=False)
    late.request()
    marker = tmp_path / "ran"
    with pytest.raises(HostLocked, match="bootstrap by"):
        answer(late, f"touch {marker}")
    assert not marker.exists()


def test_read_only_sessions_share_the_lock(open_session):
    open_session(exclusive=False).acquire()
    other = open_session(exclusive=False)
    other.acquire()
    assert other.confirmed


def test_an_exclusive_session_is_refused_while_a_read_only_one_holds_the_lock_past_its_wait(open_session):
    open_session(exclusive=False).acquire()
    with pytest.raises(HostLocked, match="another fleetfab run holds the lock on this host: runs that only read it"):
        open_session(exclusive=True, read_wait=1).acquire()


def test_an_exclusive_session_takes_the_lock_once_the_read_only_one_is_done(open_session):
    reader = open_session(exclusive=False)
    reader.acquire()
    threading.Timer(1.0, reader.release).start()
    writer = open_session(exclusive=True, read_wait=20)
    writer.acquire()
    assert writer.confirmed


def test_closing_a_session_releases_the_lock(open_session):
    first = open_session(exclusive=True)
    first.acquire()
    first.release()
    second = open_session(exclusive=True)
    second.acquire()
    assert second.confirmed


def test_a_read_that_ends_the_shell_is_an_error_not_a_hang(open_session):
    session = open_session(exclusive=False)
    session.acquire()
    with pytest.raises(SessionLost, match="ended before answering"):
        session.read("exit 3\n", END, "read")


def test_a_host_silent_past_the_read_timeout_is_an_error_not_a_hang(open_session):
    session = open_session(exclusive=False, timeout=1)
    session.acquire()
    with pytest.raises(NotAnswering, match="host did not answer within 1 s"):
        answer(session, "sleep 3")
    assert wait_for_lock(open_session, seconds=10)


def test_a_stuck_read_keeps_the_lock_until_it_ends(open_session):
    session = open_session(exclusive=False, timeout=1)
    session.acquire()
    with pytest.raises(NotAnswering):
        answer(session, "sleep 3")
    session.release()
    with pytest.raises(HostLocked):
        open_session(exclusive=True).acquire()
    assert wait_for_lock(open_session, seconds=10)


def wait_for_lock(open_session, seconds: float) -> bool:
    """Whether an exclusive session gets the lock within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            open_session(exclusive=True).acquire()
            return True
        except HostLocked:
            time.sleep(0.2)
    return False


def test_a_command_silent_past_its_timeout_fails_with_what_it_was(fleet):
    inventory = fleet()
    remote = Remote("alpha", connect(inventory.hosts["alpha"], inventory.ssh), Redactor(), sudo=False)
    try:
        with pytest.raises(NotAnswering, match="host did not answer within 1 s while read exports"):
            remote.check("sleep 2\n", "exports", "read exports", timeout=1)
    finally:
        remote.close()
