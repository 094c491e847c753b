"""Host keys told by another host: a guest's, read by its VM host from the guest's console.

A new guest has host keys nobody has seen; trusting them on first use would
trust whoever answers at its address. Its VM host can read them where only the
guest writes: the serial console, where cloud-init prints them at first boot.
So before the engine connects to such a host it asks the host that can tell
(waiting for the boot when the guest was just made), and checks the guest's
SSH server against those keys alone. The keys are kept for the run and, where
the inventory's known_hosts can be written, recorded there for ssh and
testinfra; a key there that the console contradicts (the guest was rebuilt)
is replaced, the console being the witness.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

import paramiko

from fleetfab.shapes import SSH_PUBLIC_KEY
from fleetfab.redact import Redactor
from fleetfab.remote import Remote

#: seconds between looks at a booting guest's console
POLL = 5.0
KEY_TYPES = ("ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa")


@dataclass(frozen=True)
class KeySource:
    """`script`, run on `host`, prints the other host's public host keys (`<type> <base64> ...` lines)."""

    host: str
    script: str
    #: seconds a host just made or restarted may take until its keys appear
    timeout: int


class NotUp(Exception):
    """The host's keys did not appear in time: it has not booted."""


def key_source(inventory, host, roles: dict) -> KeySource | None:
    for name in roles:
        source = roles[name].host_keys(inventory, host)
        if source is not None:
            return source
    return None


def parse_keys(text: str) -> dict[str, str]:
    """Key type -> base64, from lines such as cloud-init's console block.

    The console is the guest's to write: only a line whose key decodes as a
    key of its stated type is taken (fleetfab.shapes), before it reaches
    known_hosts.
    """
    found = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] in KEY_TYPES and SSH_PUBLIC_KEY.refusal(f"{parts[0]} {parts[1]}") is None:
            found.setdefault(parts[0], parts[1])
    return found


def read_keys(inventory, source: KeySource, name: str, wait: bool, stop: threading.Event, step) -> dict[str, str]:
    """The keys the source host tells, waiting up to its timeout when `wait`; {} when it tells none."""
    from fleetfab.ssh import connect

    teller = inventory.hosts[source.host]
    from fleetfab.readside.transport import ops_remote

    remote = ops_remote(inventory, Remote(teller.name, connect(teller, inventory.ssh), Redactor(), sudo=teller.user != "root"))
    started = time.monotonic()
    try:
        while True:
            keys = parse_keys(remote.check(source.script, "host keys", f"read {name}'s host keys").stdout)
            waited = time.monotonic() - started
            if keys or not wait:
                return keys
            if waited >= source.timeout or stop.is_set():
                raise NotUp(f"its host keys did not appear on {teller.name} within {source.timeout} s (has it booted?)")
            step(f"booting on {teller.name}: {waited:.0f} s")
            time.sleep(POLL)
    finally:
        remote.close()


_learned_lock = threading.Lock()
#: keys told in this run, by the name paramiko looks a host up by
_learned: dict[str, dict[str, paramiko.PKey]] = {}


def learn(name: str, keys: dict[str, str], known_hosts: Path | None) -> None:
    """Trust exactly these keys for `name` in this process, and record them if the file can be written."""
    pkeys = {kind: paramiko.PKey.from_type_string(kind, _decode(b64)) for kind, b64 in keys.items()}
    with _learned_lock:
        _learned[name] = pkeys
        if known_hosts is not None:
            _record(known_hosts, name, keys)


def learned(name: str) -> dict[str, paramiko.PKey]:
    with _learned_lock:
        return dict(_learned.get(name, {}))


def _decode(b64: str) -> bytes:
    import base64

    return base64.b64decode(b64)


def _record(path: Path, name: str, keys: dict[str, str]) -> None:
    from fleetfab.ssh import TrustOnFirstUse

    # the lock trust on first use appends under: a line it adds is never lost to this rewrite
    with TrustOnFirstUse.write_lock:
        _rewrite(path, name, keys)


def _rewrite(path: Path, name: str, keys: dict[str, str]) -> None:
    try:
        lines = path.read_text().splitlines(keepends=True) if path.exists() else []
    except OSError:
        return
    kept = [line for line in lines if name not in line.split(" ", 1)[0].split(",")]
    kept += [f"{name} {kind} {b64}\n" for kind, b64 in sorted(keys.items())]
    try:
        partial = path.with_name(path.name + ".fleetfab-partial")
        partial.write_text("".join(kept))
        partial.replace(path)
    except OSError:
        pass  # a read-only copy (an ops host's): the keys stay known for this run
