"""A host session: one SSH channel that holds the host lock and answers reads.

The lock is an flock held by a shell on the host for as long as our channel
stays open: a crashed or disconnected run releases it by itself. Applying
runs take it exclusively; read-only runs share it.

Once the lock is held, the same shell reads scripts from the channel, so
every read of the run is one round trip on a channel that is already open,
and the first read travels with the lock request itself (reading is
harmless; nothing is changed before the lock is confirmed). Opening a
channel costs the host a new sshd session and shell: for a drift of an
unchanged host this makes the whole run one exec, as cheap as it gets.
"""

from __future__ import annotations

import getpass
import logging
import os
import socket
import time

from fleetfab.errors import ConnectionLost, NotAnswering
from fleetfab.shell import q

#: the remote commands' logger: reads in the session are logged beside them
log = logging.getLogger("fleetfab.remote")

LOCK_FILE = "/run/lock/fleetfab.lock"
HOLDER_FILE = "/run/lock/fleetfab.holder"
#: held by every change while it runs, so one left running by a run that
#: died (its controller killed) is waited for, not raced, by the next
CHANGE_LOCK = "/run/lock/fleetfab.change.lock"
#: how long an applying run waits for such a change to finish (within a read timeout)
LEFTOVER_WAIT = 90
CHUNK = 65536


class HostLocked(Exception):
    pass


class SessionLost(Exception):
    pass


def holder_text(purpose: str) -> str:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return f"{purpose} by {getpass.getuser()}@{socket.gethostname()} (pid {os.getpid()}) since {stamp}"


def session_script(exclusive: bool, holder: str) -> str:
    """Take the lock, say so, then run what arrives on standard input.

    The shell keeps descriptor 9, and with it the lock, until the channel
    closes. Refused, it answers BUSY and the holder, and never reads the
    scripts that were sent ahead.
    """
    mode = "-x" if exclusive else "-s"
    record = f"printf '%s\\n' {q(holder)} > {HOLDER_FILE}; " if exclusive else ""
    leftover = q(f"a change started by an earlier run is still running after {LEFTOVER_WAIT} s ({CHANGE_LOCK})")
    wait = (f"exec 8>>{CHANGE_LOCK} || exit 4; if ! flock -w {LEFTOVER_WAIT} -x 8; then echo BUSY; echo {leftover}; exit 0; fi; "
            "exec 8>&-; ") if exclusive else ""
    return (
        f"exec 9>>{LOCK_FILE} || exit 4; "
        f"if flock -n {mode} 9; then {wait}{record}echo LOCKED; exec sh -s; "
        f"else echo BUSY; cat {HOLDER_FILE} 2>/dev/null; fi"
    )


def in_one_piece(script: str, end: str) -> str:
    """A read script whose answer the shell sends at once, when it is complete.

    A shell writes each command's output as it goes, and each write reached
    the controller as an SSH packet of its own (about twenty a read), each
    costing it a decryption, a MAC check and two thread switches. Captured
    by one subshell and printed at once, the answer takes one or two. The
    answer is text (a NUL byte would be dropped); `read_timeout` bounds the
    whole read. A probe that exits, or an answer cut short, still ends the
    session's shell, as it did before: the capture lacks the end line.
    """
    body = script if script.endswith("\n") else script + "\n"
    ending = q(f"\n{end}\n")
    return (
        f"fleetfab_answer=$(\n{body}printf .\n)\n"
        f"case \"\n$fleetfab_answer\" in *{ending}*) printf '%s' \"${{fleetfab_answer%.}}\";; *) exit 3;; esac\n"
    )


def as_change(script: str) -> str:
    """A change's script, holding the change lock while it runs (see CHANGE_LOCK)."""
    return f"exec 8>>{CHANGE_LOCK} && flock -x 8 || exit 4\n{script}"


class HostSession:
    """`timeout`: seconds the host may stay silent while an answer is due.

    A probe stuck on a dead mount, or a host that stopped answering, must
    end a scheduled drift with an error rather than hold it forever.
    """

    def __init__(self, remote, exclusive: bool, purpose: str, timeout: float | None = None):
        self.remote = remote
        self.exclusive = exclusive
        self.purpose = purpose
        self.timeout = timeout
        self.channel = None
        self.confirmed = False
        self._sent_ahead = False
        self._pending = bytearray()

    def acquire(self) -> None:
        self.request()
        self.confirm()

    def request(self) -> None:
        """Ask for the lock; the answer is read by `confirm` or the first read."""
        self.channel = self.remote.open_channel(session_script(self.exclusive, holder_text(self.purpose)), "taking the host lock")
        self.channel.settimeout(self.timeout)

    def confirm(self) -> None:
        """Wait for the answer: held, or refused with the holder's name."""
        if self.confirmed:
            return
        if not self._sent_ahead:
            self.remote.count("lock")
        reply = self._line().decode(errors="replace").strip()
        if reply == "LOCKED":
            self.confirmed = True
            return
        rest = (self._pending + self._drain()).decode(errors="replace").strip()
        self.release()
        if reply == "BUSY":
            raise HostLocked(f"another fleetfab run holds the lock on this host: {rest or 'holder unknown'}")
        raise HostLocked(f"could not take the host lock ({LOCK_FILE}): {reply or 'no answer'} {rest}".strip())

    def read(self, script: str, end: str, label: str) -> str:
        """Run a read script in the session; its output through the line `end`.

        The script must print `end` on a line of its own last, and must not
        read standard input (that is where the next scripts come from).
        """
        log.debug("%s: %s: read in the session", self.remote.name, label)
        self.remote.count(label)
        self.channel.sendall(in_one_piece(script, end).encode())
        self._sent_ahead = True
        self.confirm()
        line, searched = end.encode(), 0
        while (stop := _end_of_line(self._pending, line, searched)) < 0:
            searched = max(len(self._pending) - len(line) - 1, 0)
            chunk = self._recv()
            if not chunk:
                note = self._stderr_note()
                self.release()
                if not self.remote.connected:
                    raise ConnectionLost(f"reading the host ({label})")
                raise SessionLost(f"the host's shell ended before answering{note}")
            self._pending += chunk
        answer = bytes(self._pending[:stop])
        del self._pending[:stop]
        return answer.decode(errors="replace")

    def release(self) -> None:
        if self.channel is not None:
            self.channel.shutdown_write()
            self.channel.close()
            self.channel = None

    def _line(self) -> bytes:
        while b"\n" not in self._pending:
            chunk = self._recv()
            if not chunk:
                break
            self._pending += chunk
        line, _, rest = self._pending.partition(b"\n")
        self._pending = bytearray(rest)
        return bytes(line)

    def _drain(self) -> bytes:
        data = b""
        while chunk := self._recv():
            data += chunk
        return data + self._stderr()

    def _recv(self) -> bytes:
        """The next bytes from the host; a session that waited in vain is closed."""
        try:
            return self.channel.recv(CHUNK)
        except TimeoutError:
            self.release()
            raise NotAnswering(self.timeout) from None

    def _stderr(self) -> bytes:
        data = b""
        while self.channel.recv_stderr_ready():
            data += self.channel.recv_stderr(CHUNK)
        return data

    def _stderr_note(self) -> str:
        text = self.remote.redact(self._stderr().decode(errors="replace").strip())
        return f": {text.splitlines()[-1]}" if text else ""


def _end_of_line(data: bytearray, line: bytes, start: int = 0) -> int:
    """Where the first line that is exactly `line` ends in `data` (past its newline), or -1.

    The search resumes at `start`, so an answer arriving in many pieces is
    scanned once, not once a piece.
    """
    if start == 0 and data.startswith(line + b"\n"):
        return len(line) + 1
    at = data.find(b"\n" + line + b"\n", max(start - 1, 0))
    return -1 if at < 0 else at + len(line) + 2
