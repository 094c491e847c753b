"""A local stand-in for an SSH channel: a real `sh` behind pipes, for unit tests of what reads a host.

It answers the calls fleetfab's session and Remote make of a paramiko
channel (recv, recv_stderr, sendall, shutdown_write, exit status, close),
so the reading code runs unchanged against a real shell's output.
"""

from __future__ import annotations

import os
import select
import subprocess


class LocalChannel:
    def __init__(self, command: str):
        self.process = subprocess.Popen(["sh", "-c", command], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, start_new_session=True)
        self.timeout: float | None = None
        self.closed = False
        self._stderr_waiting = b""
        self._stderr_ended = False

    def settimeout(self, timeout: float | None) -> None:
        self.timeout = timeout

    def _read(self, stream, size: int) -> bytes:
        if self.closed:
            return b""
        ready, _, _ = select.select([stream], [], [], self.timeout)
        if not ready:
            raise TimeoutError
        return os.read(stream.fileno(), size)

    def recv(self, size: int) -> bytes:
        return self._read(self.process.stdout, size)

    def recv_stderr(self, size: int) -> bytes:
        if self._stderr_waiting:
            waiting, self._stderr_waiting = self._stderr_waiting, b""
            return waiting
        return self._read(self.process.stderr, size)

    def recv_stderr_ready(self) -> bool:
        """As paramiko's: True only while bytes wait to be read (never at the end of the stream)."""
        if self.closed or self._stderr_ended or not select.select([self.process.stderr], [], [], 0)[0]:
            return False
        self._stderr_waiting = os.read(self.process.stderr.fileno(), 65536)
        self._stderr_ended = not self._stderr_waiting
        return not self._stderr_ended

    def sendall(self, data: bytes) -> None:
        try:
            self.process.stdin.write(data)
            self.process.stdin.flush()
        except BrokenPipeError:
            pass

    def shutdown_write(self) -> None:
        if not self.process.stdin.closed:
            self.process.stdin.close()

    def recv_exit_status(self) -> int:
        return self.process.wait()

    def close(self) -> None:
        """Hang up: the shell and whatever it started are ended, as sshd ends a closed session's."""
        if not self.closed:
            self.closed = True
            if self.process.poll() is None:
                os.killpg(self.process.pid, 9)
            self.process.wait()


class LocalRemote:
    """What HostSession and Remote.run need of a Remote, with channels that are local shells.

    `command` replaces what would run on the host (None: run what was asked).
    """

    def __init__(self, name: str = "host1", command: str | None = None):
        self.name = name
        self.command = command
        self.channels: list[LocalChannel] = []
        self.redact = lambda text: text

    connected = True

    def count(self, label: str) -> None:
        pass

    def open_channel(self, command: str, doing: str = "") -> LocalChannel:
        channel = LocalChannel(self.command or command)
        self.channels.append(channel)
        return channel
