"""What went wrong on a host, in words an operator acts on.

Two kinds of failure look alike from the controller and must not: the
connection went away (the host died, rebooted, or the network dropped),
or a command ran and failed. The first is said as what happened to the
connection, never as the last line some command happened to print; the
second keeps the command's own message, chosen from its standard error.
"""

from __future__ import annotations

import errno
import re
import socket

import paramiko

from fleetfab.ssh import SilentHost, UnknownHostKey
from fleetfab.text import one_line


class ConnectionLost(Exception):
    """The SSH connection ended while the host was doing something for us."""

    def __init__(self, doing: str):
        super().__init__(f"connection lost while {doing}")


class NotAnswering(Exception):
    """The host stayed silent for longer than the run allows."""

    def __init__(self, seconds: float, doing: str = ""):
        where = f" while {doing}" if doing else ""
        super().__init__(f"host did not answer within {seconds:g} s{where}")


class TooMuchOutput(Exception):
    """A host sent more than fleetfab reads for one answer: it was cut off there.

    Every read from a host is bounded, so one host streaming without end
    (a huge or sparse file, a runaway command, a hostile host) costs the
    controller at most the limit, and the other hosts are still checked.
    """

    def __init__(self, host: str, limit: int, doing: str):
        self.host, self.limit = host, limit
        super().__init__(f"{host} sent more than {byte_size(limit)} while {doing}: cut off at that limit")


def byte_size(count: int) -> str:
    """A size in the largest binary unit that keeps it whole or one decimal: 16 MiB, 1 TiB, 1.5 KiB."""
    for unit, shift in (("TiB", 40), ("GiB", 30), ("MiB", 20), ("KiB", 10)):
        scale = 1 << shift
        if count >= scale:
            return f"{count / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{count} bytes"


#: the longest error line kept from a command's output
MESSAGE_CHARS = 2000
#: lines that say what failed, in the words of apt, dpkg, systemd and the usual tools
_ERROR = re.compile(r"^(E:|error|fatal|failed|cannot|can't|could not|unable|invalid|denied|permission denied|no such)"
                    r"|\b(error|failed|not found|denied|invalid|refused|cannot)\b", re.IGNORECASE)
#: lines that are only chatter: warnings, notices, progress
_CHATTER = re.compile(r"^(W:|N:|warning|debconf:|dpkg-preconfigure:|perl: warning|\s*$)", re.IGNORECASE)


def command_message(stderr: str, stdout: str = "", exit_code: int | None = None) -> str:
    """The one line of a failed command's output that says why it failed.

    The last line that reads as an error wins; failing that, the last line
    that is not a warning; a command that printed nothing gives its exit code.
    The line is the host's text, so its control characters are written out,
    and a line of more than MESSAGE_CHARS is shortened.
    """
    line = one_line(_why(stderr, stdout, exit_code))
    return line if len(line) <= MESSAGE_CHARS else line[:MESSAGE_CHARS] + " [...]"


def _why(stderr: str, stdout: str, exit_code: int | None) -> str:
    for text in (stderr, stdout):
        candidates = [line.strip() for line in text.splitlines() if line.strip()]
        errors = [line for line in candidates if _ERROR.search(line) and not _CHATTER.match(line)]
        if errors:
            return errors[-1]
        plain = [line for line in candidates if not _CHATTER.match(line)]
        if plain:
            return plain[-1]
    return f"exit {exit_code}" if exit_code is not None else "failed without a message"


def describe_error(exc: BaseException, connect_timeout: float | None = None, host=None, ssh=None) -> str:
    """One line for a failure that ended a host's run (a host's words in it written out safely).

    With the `host` and the inventory's `ssh` settings, a refused login names
    what was tried (user, address, key) and what to fix."""
    if host is not None and _refused_login(exc):
        return one_line(login_refused(host, ssh))
    return one_line(_describe(exc, connect_timeout))


def _refused_login(exc: BaseException) -> bool:
    return isinstance(exc, paramiko.AuthenticationException) and "timeout" not in str(exc).lower()


def login_refused(host, ssh) -> str:
    """A refused SSH login in words the operator acts on: who, where, with which key, and what to fix."""
    identity = getattr(ssh, "identity", None)
    key = f"key {identity}" if identity else "no key (the inventory sets no ssh.identity)"
    through = f" through {host.gateway.name}" if getattr(host, "gateway", None) is not None else ""
    return (f"SSH login refused for {host.user}@{host.address} port {host.port}{through} with {key}: "
            f"the host must list that key's public half in ~{host.user}/.ssh/authorized_keys; "
            f"or set the login in the inventory (ssh.user and ssh.identity, or the host's own user)")


def _describe(exc: BaseException, connect_timeout: float | None) -> str:
    if isinstance(exc, paramiko.BadHostKeyException):
        return (f"host key CHANGED for {exc.hostname}: refusing to connect, nothing was sent "
                f"(possible man-in-the-middle; if the host was reinstalled, remove its old key from known_hosts)")
    if isinstance(exc, (UnknownHostKey, SilentHost)):
        return str(exc)
    if isinstance(exc, paramiko.AuthenticationException):
        if "timeout" in str(exc).lower():
            # A host frozen in the middle of the login: it did not refuse, it stopped answering.
            seconds = f" within {connect_timeout:g} s" if connect_timeout else ""
            return f"host did not answer{seconds} while logging in"
        return f"SSH login refused: {exc}"
    if isinstance(exc, paramiko.ssh_exception.NoValidConnectionsError):
        return _connect_failure(exc)
    if isinstance(exc, (socket.timeout, TimeoutError)):
        seconds = f" within {connect_timeout:g} s" if connect_timeout else ""
        return f"host did not accept a connection{seconds}"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, (paramiko.ssh_exception.SSHException, EOFError, ConnectionError)):
        return f"connection lost: {exc}" if str(exc) else "connection lost"
    if isinstance(exc, OSError) and exc.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
        return f"host unreachable: {exc.strerror}"
    return str(exc) or type(exc).__name__


def _connect_failure(exc: paramiko.ssh_exception.NoValidConnectionsError) -> str:
    reasons = {e.errno for e in exc.errors.values() if isinstance(e, OSError)}
    if reasons <= {errno.ECONNREFUSED}:
        return "connection refused"
    if reasons & {errno.EHOSTUNREACH, errno.ENETUNREACH}:
        return "host unreachable"
    return f"could not connect: {exc}"
