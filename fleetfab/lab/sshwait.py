"""Wait until each machine's sshd answers at its inventory address.

Reading sshd's banner proves the daemon listens without logging in, so no
host key is trusted or recorded by waiting.
"""

from __future__ import annotations

import socket
import time


def banner(address: str, port: int, timeout: float = 2.0) -> str | None:
    """The SSH identification line at address:port, or None when nothing answers."""
    try:
        with socket.create_connection((address, port), timeout=timeout) as sock:
            line = sock.makefile("rb").readline(256).decode(errors="replace")
    except OSError:
        return None
    return line.strip() if line.startswith("SSH-") else None


def wait_for_sshd(targets: dict[str, tuple[str, int]], timeout: float = 120.0) -> list[str]:
    """Poll every target until its sshd answers; return the names that never did."""
    waiting = dict(targets)
    deadline = time.monotonic() + timeout
    while waiting and time.monotonic() < deadline:
        waiting = {n: t for n, t in waiting.items() if banner(*t) is None}
        if waiting:
            time.sleep(0.5)
    return sorted(waiting)
