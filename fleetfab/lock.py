"""A lock per host, so two runs never interleave their changes.

The lock is an flock held by a process on the host for as long as our SSH
channel stays open: a crashed or disconnected run releases it by itself.
Applying runs take it exclusively; read-only runs share it.
"""

from __future__ import annotations

import getpass
import os
import socket
import time

from fleetfab.shell import q

LOCK_FILE = "/run/lock/fleetfab.lock"
HOLDER_FILE = "/run/lock/fleetfab.holder"


class HostLocked(Exception):
    pass


def holder_text(purpose: str) -> str:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return f"{purpose} by {getpass.getuser()}@{socket.gethostname()} (pid {os.getpid()}) since {stamp}"


def lock_script(exclusive: bool, holder: str) -> str:
    mode = "-x" if exclusive else "-s"
    record = f"printf '%s\\n' {q(holder)} > {HOLDER_FILE}; " if exclusive else ""
    return (
        f"exec 9>>{LOCK_FILE} || exit 4; "
        f"if flock -n {mode} 9; then {record}echo LOCKED; exec cat >/dev/null; "
        f"else echo BUSY; cat {HOLDER_FILE} 2>/dev/null; fi"
    )


class HostLock:
    def __init__(self, remote, exclusive: bool, purpose: str):
        self.remote = remote
        self.exclusive = exclusive
        self.purpose = purpose
        self.channel = None

    def acquire(self) -> None:
        self.request()
        self.confirm()

    def request(self) -> None:
        """Ask for the lock; the answer is read by `confirm`."""
        self.channel = self.remote.open_channel(lock_script(self.exclusive, holder_text(self.purpose)), "lock")

    def confirm(self) -> None:
        """Wait for the answer: held, or refused with the holder's name."""
        answer = self.channel.makefile("rb")
        reply = answer.readline().decode().strip()
        if reply == "LOCKED":
            return
        rest = answer.read().decode().strip()
        self.channel.close()
        self.channel = None
        if reply == "BUSY":
            raise HostLocked(f"another fleetfab run holds the lock on this host: {rest or 'holder unknown'}")
        raise HostLocked(f"could not take the host lock ({LOCK_FILE}): {reply or 'no answer'} {rest}".strip())

    def release(self) -> None:
        if self.channel is not None:
            self.channel.shutdown_write()
            self.channel.close()
            self.channel = None
