"""The host lock: in a folder of root's alone, refused anywhere else, and every wait on it bounded.

The scripts run in a real shell with real `flock` and `stat`, in a folder
under the test's temporary path instead of /run/fleetfab. A folder "of root's
alone" needs root to make, so those tests skip for another account.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import time

import pytest

from fleetfab.session import (CHANGE_LOCK, HOLDER_FILE, LOCK_DIR, LOCK_FILE, HostLocked, HostSession, as_change,
                              lock_dir_script, session_script)
from tests.unit.localchannel import LocalRemote

as_root = pytest.mark.skipif(os.geteuid() != 0, reason="a folder of root's alone needs root to make")


def sh(script: str, timeout: float = 20) -> subprocess.CompletedProcess:
    return subprocess.run(["sh", "-c", script], capture_output=True, text=True, timeout=timeout)


def test_every_lock_file_is_in_the_root_only_folder_under_run():
    assert LOCK_DIR == "/run/fleetfab"
    for path in (LOCK_FILE, HOLDER_FILE, CHANGE_LOCK):
        assert os.path.dirname(path) == LOCK_DIR
    assert "/run/lock" not in session_script(True, "bootstrap by me") + as_change("true")


def test_every_wait_on_a_lock_has_a_time_limit():
    scripts = session_script(True, "x") + session_script(False, "x") + as_change("true")
    waits = re.findall(r"\bflock (-[nw])", scripts)
    assert len(waits) == scripts.count("flock ") and set(waits) == {"-n", "-w"}


@as_root
def test_the_lock_script_makes_its_folder_root_only(tmp_path):
    folder = tmp_path / "fleetfab"
    done = sh(lock_dir_script(str(folder)) + "echo OK")
    assert done.stdout == "OK\n"
    status = os.lstat(folder)
    assert status.st_uid == 0 and oct(status.st_mode & 0o7777) == "0o700"


@as_root
@pytest.mark.parametrize("make, found", [
    ("install -d -m 0700 -o nobody {dir}", "owner nobody, mode 700, directory"),
    ("install -d -m 0755 {dir}", "owner root, mode 755, directory"),
    ("install -d -m 0700 {dir}.real && ln -s {dir}.real {dir}", "owner root, mode 777, symbolic link"),
    ("touch {dir}", "owner root, mode 644, regular empty file"),
], ids=["another owner", "a wider mode", "a link", "a file"])
def test_a_lock_folder_that_is_not_roots_alone_is_refused_with_what_was_found(tmp_path, make, found):
    folder = tmp_path / "fleetfab"
    sh(make.format(dir=folder))
    done = sh(session_script(True, "bootstrap by me", str(folder)) + "; echo LOCKED-ANYWAY")
    assert done.stdout == f"UNSAFE\n{found}\n"
    assert not (folder / "holder").exists() if folder.is_dir() and not folder.is_symlink() else True


def test_an_unsafe_folder_answer_stops_the_run_with_what_was_found():
    remote = LocalRemote("worker9", command="echo UNSAFE; echo 'owner nobody, mode 700, directory'")
    session = HostSession(remote, exclusive=True, purpose="bootstrap")
    with pytest.raises(HostLocked, match=r"refusing to lock in /run/fleetfab: .*found: owner nobody, mode 700, directory"):
        session.acquire()


@contextlib.contextmanager
def applying(folder: str, holder: str):
    """Another run holding the host lock exclusive, as a bootstrap does, until the block ends."""
    first = subprocess.Popen(["sh", "-c", session_script(True, holder, folder)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert first.stdout.readline() == "LOCKED\n"
        yield
    finally:
        first.stdin.close()
        first.wait(timeout=10)


@as_root
def test_a_second_exclusive_session_is_refused_with_the_holder_line_from_the_root_only_folder(tmp_path):
    folder = str(tmp_path / "fleetfab")
    with applying(folder, "bootstrap by alice"):
        second = sh(session_script(True, "bootstrap by bob", folder))
    assert second.stdout == "BUSY\nbootstrap by alice\n"


def hold_shared(lock, seconds: float) -> subprocess.Popen:
    """A reader holding the host lock shared, as a drift or the ops host's read program does."""
    reader = subprocess.Popen(["flock", "-s", str(lock), "sleep", str(seconds)])
    for _ in range(50):
        if sh(f"flock -n -x {lock} true").returncode != 0:
            return reader
        time.sleep(0.1)
    raise AssertionError("the reader never took the lock")


def lock_once(folder: str, read_wait: int) -> tuple[str, float]:
    started = time.monotonic()
    done = sh(session_script(True, "upgrade by alice", folder, read_wait=read_wait) + "\n", timeout=60)
    return done.stdout, time.monotonic() - started


@as_root
def test_an_exclusive_session_waits_for_runs_that_only_read_and_then_takes_the_lock(tmp_path):
    folder = str(tmp_path / "fleetfab")
    sh(lock_dir_script(folder))
    reader = hold_shared(f"{folder}/lock", 2)
    try:
        answer, took = lock_once(folder, read_wait=20)
    finally:
        reader.kill()
    assert answer == "LOCKED\n" and took >= 1


@as_root
def test_readers_still_holding_the_lock_after_the_wait_refuse_the_session_saying_so(tmp_path):
    folder = str(tmp_path / "fleetfab")
    sh(lock_dir_script(folder))
    (tmp_path / "fleetfab" / "holder").write_text("bootstrap by someone long gone\n")
    reader = hold_shared(f"{folder}/lock", 30)
    try:
        answer, _ = lock_once(folder, read_wait=1)
    finally:
        reader.kill()
    assert answer == "BUSY\nruns that only read it (a drift, the ops host's scheduled check) still held it after 1 s\n"


@as_root
def test_an_exclusive_session_is_refused_at_once_while_another_applies(tmp_path):
    folder = str(tmp_path / "fleetfab")
    with applying(folder, "bootstrap by alice"):
        answer, took = lock_once(folder, read_wait=20)
    assert answer == "BUSY\nbootstrap by alice\n" and took < 10


def test_the_wait_for_readers_stays_well_inside_the_read_timeout():
    assert HostSession(None, exclusive=True, purpose="x", timeout=120).read_wait == 30
    assert HostSession(None, exclusive=True, purpose="x", timeout=20).read_wait == 5


def test_a_change_waits_for_the_change_lock_only_so_long(tmp_path):
    lock = tmp_path / "change.lock"
    holder = subprocess.Popen(["flock", "-x", str(lock), "sleep", "30"])
    try:
        for _ in range(50):
            if sh(f"flock -n {lock} true").returncode != 0:
                break
            time.sleep(0.1)
        started = time.monotonic()
        done = sh(as_change("echo ran", lock=str(lock), wait=1))
        assert time.monotonic() - started < 10
        assert done.returncode == 4 and "ran" not in done.stdout
        assert f"the change lock ({lock}) was still held after 1 s" in done.stderr
    finally:
        holder.kill()
        holder.wait()


def test_a_change_runs_once_the_change_lock_is_free(tmp_path):
    done = sh(as_change("echo ran", lock=str(tmp_path / "change.lock"), wait=1))
    assert done.returncode == 0 and done.stdout == "ran\n"
