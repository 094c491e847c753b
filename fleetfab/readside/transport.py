"""The ops copy's side of the read side: one channel to the host's read program a run.

Instead of `sh -s`, the ops copy (run.ops_copy) asks the host's program
(`FORCED_COMMAND`, which the ops key is forced to anyway) for read-outs by
the sha256 of their scripts: the same batch a drift sends everyone else,
section by section. The program frames the answer with the boundary given,
so `fleetfab.facts.split_output` reads it as any other. A request the host
refuses because a read-out is not installed means the two disagree on the
inventory: `CopyIsOlder`, not drift.

Everything the host answers is untrusted: the header is one bounded JSON line
of a fixed shape, and the body at most MAX_ANSWER bytes.
"""

from __future__ import annotations

import hashlib
import json
import logging

from fleetfab.errors import ConnectionLost, NotAnswering, TooMuchOutput
from fleetfab.readside import FORCED_COMMAND
from fleetfab.readside.secrets import recorded_shape
from fleetfab.remote import RemoteError, Result
from fleetfab.session import HostLocked
from fleetfab.text import one_line

log = logging.getLogger("fleetfab.remote")

CHUNK = 65536
#: the most of one header line, and of one answer's body
MAX_HEADER = 1 << 20
MAX_ANSWER = 16 << 20
#: the words of the program's refusal of a read-out it does not have
NOT_INSTALLED = "is not installed here"


class ReadRefused(Exception):
    """The host's read program refused a request."""


class CopyIsOlder(ReadRefused):
    """The host does not have a read-out this copy of the inventory asks for: the copy and the
    fleet's last bootstrap disagree (the copy is older, or a bootstrap is due); not drift."""


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class ReadSession:
    """`remote`: a fleetfab.remote.Remote (its connection); `lock`: take the host lock, shared.

    Used by HostRun in place of a HostSession: `request`, `confirm`, `release`
    as a session, `read` for batches, `check` for one read-out (a guest's keys).
    """

    def __init__(self, remote, lock: bool, timeout: float | None = None):
        self.remote = remote
        self.lock = lock
        self.timeout = timeout
        self.channel = None
        self.confirmed = not lock
        self._pending = bytearray()
        self._recorded: dict[str, str] | None = None

    # -- the session ---------------------------------------------------------

    def request(self) -> None:
        self.channel = self.remote.open_channel(FORCED_COMMAND, "starting the read side", as_is=True)
        self.channel.settimeout(self.timeout)
        if self.lock:
            self._send({"op": "lock", "mode": "shared"})

    def confirm(self) -> None:
        if self.confirmed:
            return
        self.remote.count("lock")
        header = self._header("taking the host lock")
        if header.get("ok") is True:
            self.confirmed = True
            return
        self.release()
        # Reads may go on without the lock (as for a publisher outside the run), on a channel of their own.
        self.lock, self.confirmed = False, True
        if "busy" in header:
            raise HostLocked(f"another fleetfab run holds the lock on this host: {one_line(str(header['busy'])[:300]) or 'holder unknown'}")
        raise HostLocked(f"the read side refused the host lock: {_refusal(header)}")

    def release(self) -> None:
        if self.channel is not None:
            self.channel.shutdown_write()
            self.channel.close()
            self.channel = None

    # -- requests ------------------------------------------------------------

    def read(self, sections: list[tuple[str, str]], boundary: str, label: str) -> str:
        """The batch's output, as `sh -s` would have printed it for the same sections."""
        log.debug("%s: %s: %d read-outs through the read side", self.remote.name, label, len(sections))
        self._ensure_open()
        self.remote.count(label)
        self._send({"op": "read", "boundary": boundary, "sections": [[name, digest(text)] for name, text in sections]})
        self.confirm()
        header = self._answer(label)
        return self._body(header, label).decode(errors="replace")

    def check(self, script: str, label: str, what: str, timeout: float | None = None) -> Result:
        """One read-out alone (as Remote.check): its output; a failure raises RemoteError."""
        log.debug("%s: %s: %s through the read side", self.remote.name, label, one_line(what))
        self._ensure_open()
        self.remote.count(label)
        self._send({"op": "run", "readout": digest(script)})
        header = self._answer(what)
        body = self._body(header, what)
        errors = _count(header.get("stderr_bytes", 0), len(body))
        out, err = body[: len(body) - errors], body[len(body) - errors:]
        code = _count(header.get("exit", 1), 255)
        result = Result(code, out.decode(errors="replace"), err.decode(errors="replace"))
        if not result.ok:
            raise RemoteError(f"exit {code}: {one_line(result.stderr.strip()[:300])}")
        return result

    def recorded(self) -> dict[str, str]:
        """The digests of the secret files the operator's bootstrap wrote on this host (asked once)."""
        if self._recorded is None:
            self._ensure_open()
            self.remote.count("recorded")
            self._send({"op": "recorded"})
            header = self._answer("recorded digests")
            try:
                self._recorded = recorded_shape(header.get("secrets"))
            except ValueError as exc:
                raise ReadRefused(f"the host's recorded digests are refused: {exc}") from None
        return self._recorded

    def close(self) -> None:
        self.release()
        self.remote.close()

    # -- the wire --------------------------------------------------------------

    def _ensure_open(self) -> None:
        if self.channel is None:
            self.request()

    def _send(self, request: dict) -> None:
        self.channel.sendall(json.dumps(request).encode() + b"\n")

    def _answer(self, doing: str) -> dict:
        header = self._header(doing)
        if "refused" in header:
            reason = _refusal(header)
            if NOT_INSTALLED in reason:
                raise CopyIsOlder(f"copy is older: the host's read side has no read-out for this copy's {doing} "
                                  "(the ops host's inventory and the fleet's last bootstrap differ: "
                                  "bootstrap the ops host, or this host)")
            raise ReadRefused(f"the host's read side refused {doing}: {reason}")
        if header.get("ok") is not True:
            raise ReadRefused(f"the host's read side answered {doing} with no result")
        return header

    def _header(self, doing: str) -> dict:
        while b"\n" not in self._pending:
            self._fill(doing, MAX_HEADER)
        line, _, rest = bytes(self._pending).partition(b"\n")
        self._pending = bytearray(rest)
        try:
            header = json.loads(line.decode())
        except (ValueError, UnicodeError):
            raise ReadRefused(f"the host's read side answered {doing} with something that is not its header") from None
        if not isinstance(header, dict):
            raise ReadRefused(f"the host's read side answered {doing} with something that is not its header")
        return header

    def _body(self, header: dict, doing: str) -> bytes:
        size = header.get("bytes")
        if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= MAX_ANSWER:
            raise ReadRefused(f"the host's read side announced an answer of no size it may send ({doing})")
        while len(self._pending) < size:
            self._fill(doing, size)
        body = bytes(self._pending[:size])
        del self._pending[:size]
        return body

    def _fill(self, doing: str, limit: int) -> None:
        try:
            chunk = self.channel.recv(CHUNK)
        except TimeoutError:
            self.release()
            raise NotAnswering(self.timeout, doing) from None
        if not chunk:
            note = self._stderr_note()
            self.release()
            if not self.remote.connected:
                raise ConnectionLost(doing)
            raise ReadRefused(f"the host's read side ended before answering {doing}{note}")
        self._pending += chunk
        if len(self._pending) > limit + MAX_HEADER:
            self.release()
            raise TooMuchOutput(self.remote.name, limit, doing)

    def _stderr_note(self) -> str:
        data = b""
        while len(data) < 4096 and self.channel.recv_stderr_ready():
            data += self.channel.recv_stderr(CHUNK)
        text = self.remote.redact(data[:4096].decode(errors="replace").strip())
        return f": {one_line(text.splitlines()[-1][:300])}" if text else ""


def _refusal(header: dict) -> str:
    return one_line(str(header.get("refused", "no reason given"))[:500])


def _count(value, most: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= most else most


def ops_remote(inventory, remote):
    """What a one-off read of `remote` goes through: the read side in an ops copy, else the remote itself."""
    return ReadSession(remote, lock=False, timeout=inventory.ssh.read_timeout) if inventory.ops_copy else remote
