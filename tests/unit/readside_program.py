"""The read program as installed, run from a temporary folder: its store, lock folder and syslog socket there.

Only the constants naming those places differ from the installed bytes, so a
test speaks to the real program, through a real pipe, with a real syslog socket.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from fleetfab.readside import program_text

PLACES = {
    'STORE = "/var/lib/fleetfab-read"': "STORE = {store!r}",
    'LOCK_DIR = "/run/fleetfab"': "LOCK_DIR = {locks!r}",
    'LOG_SOCKET = "/dev/log"': "LOG_SOCKET = {log!r}",
}


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class ReadHost:
    """A host's read side in `folder`: install read-outs, send requests, read the log."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.store = folder / "store"
        self.locks = folder / "locks"
        self.store.mkdir(mode=0o700)
        text = program_text()
        for constant, replacement in PLACES.items():
            assert constant in text, constant
            text = text.replace(constant, replacement.format(store=str(self.store), locks=str(self.locks),
                                                             log=str(folder / "log")))
        self.program = folder / "read"
        self.program.write_text(text)
        self.log_socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.log_socket.bind(str(folder / "log"))
        self.log_socket.setblocking(False)

    def install(self, readouts: dict[str, str] | list[str], secrets: dict | None = None, mode: int = 0o600) -> dict[str, str]:
        """Read-outs (text, or role/what -> text); their digests by text."""
        items = readouts.items() if isinstance(readouts, dict) else ((f"test: read-out {i}", t) for i, t in enumerate(readouts))
        entries = {digest(text): {"role": what.split(": ")[0], "what": what.split(": ", 1)[1], "text": text} for what, text in items}
        manifest = self.store / "readouts.json"
        manifest.write_text(json.dumps({"version": 1, "readouts": entries, "secrets": secrets or {}}))
        os.chmod(manifest, mode)
        return {entry["text"]: d for d, entry in entries.items()}

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "-I", str(self.program), *args]

    def ask(self, *requests, args: tuple[str, ...] = ()) -> bytes:
        lines = b"".join((r if isinstance(r, bytes) else json.dumps(r).encode()) + b"\n" for r in requests)
        return subprocess.run(self.command(*args), input=lines, capture_output=True, timeout=60, cwd=self.folder).stdout

    def logged(self) -> list[str]:
        found = []
        while True:
            try:
                found.append(self.log_socket.recv(65536).decode())
            except BlockingIOError:
                return found

    def close(self) -> None:
        self.log_socket.close()


def answers(output: bytes) -> list[tuple[dict, bytes]]:
    """Each answer: its header and the bytes it announced."""
    found = []
    while output:
        line, _, output = output.partition(b"\n")
        header = json.loads(line)
        size = header.get("bytes", 0)
        found.append((header, output[:size]))
        output = output[size:]
    return found
