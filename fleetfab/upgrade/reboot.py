"""Waiting for a host to come back after the reboot an upgrade asked for.

A host is back when it answers SSH (its host key still checked) from a new
boot: its boot id, and the start time of its PID 1, differ from before. A
container that stands in for a machine (the lab's) shares its kernel's boot
id, so PID 1's start time is what tells its restart. Then systemd is asked
to finish starting (`is-system-running --wait`): its answer, `running` or
`degraded`, goes into the report, and the health checks judge the rest.

A host that does not come back within the time allowed stops the upgrade
with that said plainly. A lab machine (a container with systemd as PID 1)
stops when systemd exits for the reboot, and comes back by itself only if
its container has a restart policy (Docker's `unless-stopped`).
"""

from __future__ import annotations

import contextlib
import re
import time

import paramiko

from fleetfab.redact import Redactor
from fleetfab.remote import Remote
from fleetfab.ssh import connect

#: the boot's identity: the kernel's boot id and PID 1's start time (clock ticks since boot)
MARKER = "cat /proc/sys/kernel/random/boot_id; cut -d' ' -f22 /proc/1/stat"
MARKER_SHAPE = re.compile(r"[0-9a-f-]{36}\n[0-9]{1,20}")
#: how long systemd may take to finish starting once SSH answers
STARTUP = 180
#: between two tries while the host is down
POLL = 3.0


class NotBack(Exception):
    """The host did not come back in time; the message says what was last seen."""


def marker_of(output: str) -> str | None:
    """The boot marker in a host's answer, or None when the answer does not have its shape."""
    text = output.strip()
    return text if MARKER_SHAPE.fullmatch(text) else None


def wait_until_back(inventory, host, before: str, timeout: float, step=lambda text: None, sleep=time.sleep,
                    clock=time.monotonic) -> str:
    """Poll until `host` answers from a new boot, then until systemd has started: its state word."""
    deadline = clock() + timeout
    last = "no answer yet"
    sleep(POLL)
    while clock() < deadline:
        try:
            return _check_once(inventory, host, before, step)
        except _StillOld:
            last = "still the boot before the reboot"
        except (OSError, EOFError, paramiko.SSHException) as exc:
            last = type(exc).__name__ if not str(exc) else str(exc)[:160]
        except Exception as exc:  # a connection that dies half-way through a read, while going down
            last = type(exc).__name__
        step(f"waiting for it to come back ({int(deadline - clock())} s left)")
        sleep(POLL)
    raise NotBack(f"{host.name} did not come back within {timeout:g} s of its reboot (last: {last}); "
                  "a lab machine is a container that stops when systemd exits, and returns by itself only with "
                  "a restart policy (docker update --restart unless-stopped)")


class _StillOld(Exception):
    pass


def _check_once(inventory, host, before: str, step) -> str:
    remote = Remote(host.name, connect(host, inventory.ssh), Redactor(), sudo=host.user != "root")
    try:
        now = marker_of(remote.check(MARKER, "upgrade", "read the boot marker", timeout=30).stdout)
        if now is None or now == before:
            raise _StillOld()
        step("back; waiting for systemd to finish starting")
        state = remote.run(f"timeout {STARTUP} systemctl is-system-running --wait 2>/dev/null || true", "upgrade",
                           "wait for systemd", timeout=STARTUP + 30).stdout.strip().splitlines()
        word = state[-1] if state else "unknown"
        return word if re.fullmatch(r"[a-z-]{1,20}", word) else "unknown"
    finally:
        with contextlib.suppress(Exception):
            remote.close()
