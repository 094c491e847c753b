"""The one place remote commands run: quoted, logged with secrets redacted, counted.

Scripts travel on the command's standard input to `sh -s`, so no argument
length limit or second layer of quoting applies, and a non-root user runs them
through `sudo -n` (never prompting: a missing sudo rule fails clearly).
"""

from __future__ import annotations

import logging
import os
import threading
from collections import Counter
from dataclasses import dataclass

import paramiko

from fleetfab.errors import ConnectionLost, NotAnswering, TooMuchOutput, command_message
from fleetfab.redact import Redactor
from fleetfab.shell import q
from fleetfab.staging import receive_command
from fleetfab.text import one_line

log = logging.getLogger("fleetfab.remote")

#: bytes handed to paramiko at a time when copying a file
SEND_CHUNK = 1 << 18
#: bytes asked of paramiko at a time when reading a command's output
READ_CHUNK = 1 << 16
#: the most of one command's standard output, or standard error, that is read:
#: a host that sends more is cut off and the command fails (see TooMuchOutput)
MAX_OUTPUT = 16 << 20


@dataclass(frozen=True)
class Result:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.exit_code == 0


class RemoteError(Exception):
    pass


class Remote:
    def __init__(self, name: str, connection, redactor: Redactor, sudo: bool):
        self.name = name
        self.connection = connection
        self.redact = redactor
        self.sudo = sudo
        #: SSH round trips (waits for an answer) per label, for reports and benchmarks
        self.round_trips: Counter = Counter()

    def command_line(self, command: str) -> str:
        return f"sudo -n -- sh -c {q(command)}" if self.sudo else command

    def count(self, label: str) -> None:
        self.round_trips[label] += 1

    @property
    def connected(self) -> bool:
        transport = self.connection.transport
        return transport is not None and transport.is_active()

    def open_channel(self, command: str, doing: str = "starting a command", as_is: bool = False):
        """A channel running `command` (through sudo for a non-root login, unless `as_is`)."""
        if not self.connected:
            raise ConnectionLost(doing)
        try:
            channel = self.connection.transport.open_session()
            channel.exec_command(command if as_is else self.command_line(command))
        except (paramiko.SSHException, EOFError, OSError) as exc:
            if "Timeout opening channel" in str(exc):
                raise NotAnswering(self.connection.transport.channel_timeout, doing) from None
            if self.connected:
                raise
            raise ConnectionLost(doing) from None
        return channel

    def run(self, script: str, label: str, what: str, timeout: float | None = None) -> Result:
        """Run a shell script; `what` is what the log says instead of the script.

        With a `timeout`, a host silent for that long fails the command.
        """
        log.debug("%s: %s: %s", self.name, label, one_line(self.redact(what)))
        self.count(label)
        channel = self.open_channel("exec sh -s", what)
        channel.settimeout(timeout)
        stderr: list[tuple[bytes, bool]] = []
        reader = threading.Thread(target=_read_into, args=(channel, stderr), daemon=True)
        reader.start()
        try:
            channel.sendall(script.encode())
            channel.shutdown_write()
            stdout, whole = read_bounded(channel.recv, channel, MAX_OUTPUT)
        except TimeoutError:
            channel.close()
            raise NotAnswering(timeout, what) from None
        except (EOFError, OSError, paramiko.SSHException):
            if self.connected:
                raise
            raise ConnectionLost(what) from None
        reader.join()
        errors, errors_whole = stderr[0] if stderr else (b"", True)
        if not (whole and errors_whole):
            channel.close()
            raise TooMuchOutput(self.name, MAX_OUTPUT, self.redact(what))
        code = channel.recv_exit_status()
        channel.close()
        if code == -1 and not self.connected:
            # No exit status came: whatever the command printed last says nothing of why.
            raise ConnectionLost(what)
        result = Result(code, stdout.decode(errors="replace"), errors.decode(errors="replace"))
        if not result.ok:
            log.debug("%s: %s: exit %s: %s", self.name, label, code, one_line(self.redact(result.stderr.strip())))
        return result

    def send(self, local: "os.PathLike", staged: str, label: str) -> None:
        """Stream a local file to `staged` on one channel of the same connection.

        Not SFTP: the file is written by the same (sudo) shell as every change,
        so a non-root login needs no writable folder of its own, into a fresh
        folder only root can enter (`fleetfab.staging`), never a shared one.
        """
        what = f"copy {os.fspath(local)} to {staged}"
        log.debug("%s: %s: %s", self.name, label, what)
        self.count(label)
        channel = self.open_channel(receive_command(staged), what)
        try:
            with open(local, "rb") as source:
                while chunk := source.read(SEND_CHUNK):
                    channel.sendall(chunk)
            channel.shutdown_write()
            error, _ = read_bounded(channel.recv_stderr, channel, MAX_OUTPUT)
            code = channel.recv_exit_status()
        except (EOFError, OSError, paramiko.SSHException):
            if self.connected:
                raise
            raise ConnectionLost(what) from None
        finally:
            channel.close()
        if code != 0:
            raise RemoteError(command_message(error.decode(errors="replace"), "", code))

    def check(self, script: str, label: str, what: str, timeout: float | None = None) -> Result:
        result = self.run(script, label, what, timeout)
        if not result.ok:
            raise RemoteError(self.redact(command_message(result.stderr, result.stdout, result.exit_code)))
        return result

    def close(self) -> None:
        self.connection.close()


def read_bounded(recv, channel, limit: int) -> tuple[bytes, bool]:
    """A stream of `channel` through `recv`, to its end: (data, True); or, once the
    host sent more than `limit` bytes, (the first `limit`, False) with the channel closed."""
    data = bytearray()
    while chunk := recv(READ_CHUNK):
        data += chunk
        if len(data) > limit:
            channel.close()
            return bytes(data[:limit]), False
    return bytes(data), True


def _read_into(channel, found: list[tuple[bytes, bool]]) -> None:
    """Standard error, read beside standard output; a timeout is reported there."""
    try:
        found.append(read_bounded(channel.recv_stderr, channel, MAX_OUTPUT))
    except TimeoutError:
        pass
