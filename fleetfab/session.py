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

from fleetfab.errors import ConnectionLost, NotAnswering, TooMuchOutput
from fleetfab.shell import q
from fleetfab.text import one_line

#: the remote commands' logger: reads in the session are logged beside them
log = logging.getLogger("fleetfab.remote")

#: the host lock's folder: /run is root's alone, so no other account can make
#: this folder first, plant a link in it, hold its lock or write its holder
#: line (world-writable /run/lock allowed all four)
LOCK_DIR = "/run/fleetfab"
LOCK_FILE = f"{LOCK_DIR}/lock"
HOLDER_FILE = f"{LOCK_DIR}/holder"
#: held by every change while it runs, so one left running by a run that
#: died (its controller killed) is waited for, not raced, by the next
CHANGE_LOCK = f"{LOCK_DIR}/change.lock"
#: how long an applying run waits for such a change to finish (within a read timeout)
LEFTOVER_WAIT = 90
#: how long a change waits for the change lock: the run holding the host
#: lock is its only user, so a wait means a leftover change, as above
CHANGE_WAIT = LEFTOVER_WAIT
#: how long an applying run waits while only runs that read hold the host (a
#: drift, the ops host's scheduled check: seconds a host), before it is refused
READ_WAIT = 30
CHUNK = 65536
#: the most one answer in the session may hold: a host that sends more is cut off
MAX_ANSWER = 16 << 20
#: the most read of what a refused or failing session prints after its first line
MAX_NOTE = 4096
#: of which the lines shown in an error, and the characters of each
NOTE_LINES, NOTE_CHARS = 3, 300


class HostLocked(Exception):
    pass


class SessionLost(Exception):
    pass


def holder_text(purpose: str) -> str:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return f"{purpose} by {getpass.getuser()}@{socket.gethostname()} (pid {os.getpid()}) since {stamp}"


def lock_dir_script(folder: str = LOCK_DIR) -> str:
    """Make the lock folder root's alone (0700), or refuse one that is anything else.

    Only root can write /run, so a folder found there with another owner or
    mode, or a link, was made by hand or by something untrusted: the run
    stops with what was found (answer UNSAFE) rather than lock in it.
    """
    folder = q(folder)
    return (
        f"[ -d {folder} ] || mkdir -m 0700 {folder} 2>/dev/null; "
        f"fleetfab_dir=$(stat -c '%u %a %F' {folder} 2>&1); "
        f"if [ \"$fleetfab_dir\" != '0 700 directory' ]; then echo UNSAFE; stat -c 'owner %U, mode %a, %F' {folder} 2>&1; exit 0; fi; "
    )


def session_script(exclusive: bool, holder: str, folder: str = LOCK_DIR, read_wait: int = READ_WAIT) -> str:
    """Take the lock, say so, then run what arrives on standard input.

    The shell keeps descriptor 9, and with it the lock, until the channel
    closes. Refused, it answers BUSY and the holder, and never reads the
    scripts that were sent ahead. Every file is in `folder`, root's alone.

    An exclusive session finding only readers (a shared lock is free to
    take) waits up to `read_wait` seconds for them: a read lasts seconds,
    and a scheduled check must not stop an upgrade halfway. Another
    applying run is refused at once, named by its holder line.
    """
    lock, holder_file, change = (q(f"{folder}/{name}") for name in ("lock", "holder", "change.lock"))
    record = f"printf '%s\\n' {q(holder)} > {holder_file}; " if exclusive else ""
    leftover = q(f"a change started by an earlier run is still running after {LEFTOVER_WAIT} s ({folder}/change.lock)")
    readers = q(f"runs that only read it (a drift, the ops host's scheduled check) still held it after {read_wait} s")
    wait = (f"exec 8>>{change} || exit 4; if ! flock -w {LEFTOVER_WAIT} -x 8; then echo BUSY; echo {leftover}; exit 0; fi; "
            "exec 8>&-; ") if exclusive else ""
    if exclusive:
        take = (f"fleetfab_lock=busy; if flock -n -x 9; then fleetfab_lock=ok; "
                f"elif flock -n -s 9; then fleetfab_lock=readers; flock -w {int(read_wait)} -x 9 && fleetfab_lock=ok; fi; ")
    else:
        take = "fleetfab_lock=busy; flock -n -s 9 && fleetfab_lock=ok; "
    return (
        f"{lock_dir_script(folder)}exec 9>>{lock} || exit 4; {take}"
        f"if [ $fleetfab_lock = ok ]; then {wait}{record}echo LOCKED; exec sh -s; "
        f"elif [ $fleetfab_lock = readers ]; then echo BUSY; echo {readers}; "
        f"else echo BUSY; head -c {MAX_NOTE} {holder_file} 2>/dev/null; fi"
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


def as_change(script: str, lock: str = CHANGE_LOCK, wait: int = CHANGE_WAIT) -> str:
    """A change's script, holding the change lock while it runs (see CHANGE_LOCK).

    The wait is bounded: a lock still held after `wait` seconds fails this
    change with that reason, rather than leave the run waiting for ever.
    """
    busy = q(f"the change lock ({lock}) was still held after {wait} s")
    return f"exec 8>>{q(lock)} && flock -w {int(wait)} -x 8 || {{ echo {busy} >&2; exit 4; }}\n{script}"


class HostSession:
    """`timeout`: seconds the host may stay silent while an answer is due.

    A probe stuck on a dead mount, or a host that stopped answering, must
    end a scheduled drift with an error rather than hold it forever.
    """

    def __init__(self, remote, exclusive: bool, purpose: str, timeout: float | None = None, read_wait: int = READ_WAIT):
        self.remote = remote
        self.exclusive = exclusive
        self.purpose = purpose
        self.timeout = timeout
        # the wait for readers stays well inside the time the host may take to answer
        self.read_wait = read_wait if timeout is None else max(0, min(read_wait, int(timeout) // 4))
        self.channel = None
        self.confirmed = False
        self._sent_ahead = False
        self._pending = bytearray()

    def acquire(self) -> None:
        self.request()
        self.confirm()

    def request(self) -> None:
        """Ask for the lock; the answer is read by `confirm` or the first read."""
        script = session_script(self.exclusive, holder_text(self.purpose), read_wait=self.read_wait)
        self.channel = self.remote.open_channel(script, "taking the host lock")
        self.channel.settimeout(self.timeout)

    def confirm(self) -> None:
        """Wait for the answer: held, or refused with the holder's name."""
        if self.confirmed:
            return
        if not self._sent_ahead:
            self.remote.count("lock")
        reply = _note(self._line()[:NOTE_CHARS])
        if reply == "LOCKED":
            self.confirmed = True
            return
        rest = _note(bytes(self._pending[:MAX_NOTE]) + self._drain())
        self.release()
        if reply == "BUSY":
            raise HostLocked(f"another fleetfab run holds the lock on this host: {rest or 'holder unknown'}")
        if reply == "UNSAFE":
            raise HostLocked(f"refusing to lock in {LOCK_DIR}: it must be a folder of root's alone (0700), "
                             f"found: {rest or 'nothing'}; remove it and run again")
        if SUDO_WANTS_PASSWORD in f"{reply} {rest}":
            raise HostLocked(sudo_refused(getattr(getattr(self.remote, "connection", None), "host", None), self.remote.name))
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
            self._within(MAX_ANSWER, label)
        answer = bytes(self._pending[:stop])
        del self._pending[:stop]
        return answer.decode(errors="replace")

    def release(self) -> None:
        if self.channel is not None:
            self.channel.shutdown_write()
            self.channel.close()
            self.channel = None

    def _within(self, limit: int, doing: str) -> None:
        """A host that sent more than `limit` bytes for one answer is cut off."""
        if len(self._pending) > limit:
            self.release()
            raise TooMuchOutput(self.remote.name, limit, doing)

    def _line(self) -> bytes:
        while b"\n" not in self._pending:
            chunk = self._recv()
            if not chunk:
                break
            self._pending += chunk
            self._within(MAX_ANSWER, "taking the host lock")
        line, _, rest = self._pending.partition(b"\n")
        self._pending = bytearray(rest)
        return bytes(line)

    def _drain(self) -> bytes:
        """What a refused session printed after its answer, up to MAX_NOTE bytes."""
        data = b""
        while len(data) < MAX_NOTE and (chunk := self._recv()):
            data += chunk
        return data[:MAX_NOTE] + self._stderr()

    def _recv(self) -> bytes:
        """The next bytes from the host; a session that waited in vain is closed."""
        try:
            return self.channel.recv(CHUNK)
        except TimeoutError:
            self.release()
            raise NotAnswering(self.timeout) from None

    def _stderr(self) -> bytes:
        data = b""
        while len(data) < MAX_NOTE and self.channel.recv_stderr_ready():
            data += self.channel.recv_stderr(CHUNK)
        return data[:MAX_NOTE]

    def _stderr_note(self) -> str:
        text = self.remote.redact(self._stderr().decode(errors="replace").strip())
        return f": {_note(text.splitlines()[-1].encode())}" if text else ""


#: what `sudo -n` says when the login user's sudo rule asks for a password
SUDO_WANTS_PASSWORD = "a password is required"


def sudo_refused(host, name: str) -> str:
    """The login user's sudo asks for a password: who, where, and the rule that fixes it."""
    user = getattr(host, "user", "the login user")
    where = f"{host.address}" if host is not None else name
    return (f"{user} on {name} ({where}) needs sudo without a password: fleetfab runs every command as "
            f"`sudo -n`, which never prompts; give {user} a NOPASSWD rule "
            f"(/etc/sudoers.d/: `{user} ALL=(ALL) NOPASSWD: ALL`), or log in as root")


def _note(raw: bytes) -> str:
    """A host's few words for an error (who holds the lock, why its shell ended): its
    first lines, each shortened, joined on one line with their control characters written out."""
    lines = raw.decode(errors="replace").strip().splitlines()[:NOTE_LINES]
    return "; ".join(one_line(line.strip()[:NOTE_CHARS]) for line in lines if line.strip())


def _end_of_line(data: bytearray, line: bytes, start: int = 0) -> int:
    """Where the first line that is exactly `line` ends in `data` (past its newline), or -1.

    The search resumes at `start`, so an answer arriving in many pieces is
    scanned once, not once a piece.
    """
    if start == 0 and data.startswith(line + b"\n"):
        return len(line) + 1
    at = data.find(b"\n" + line + b"\n", max(start - 1, 0))
    return -1 if at < 0 else at + len(line) + 2
