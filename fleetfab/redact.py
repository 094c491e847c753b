"""Secrets are replaced wherever text leaves the engine: logs, plans, diffs, JSON."""

from __future__ import annotations

import threading

MASK = "<redacted>"
#: shorter values would mask ordinary words; no real secret is this short
MIN_SECRET = 8


class Redactor:
    def __init__(self):
        self._secrets: set[str] = set()
        self._lock = threading.Lock()

    def add(self, *values: str) -> None:
        with self._lock:
            for value in values:
                for piece in [value, *value.splitlines()]:
                    if len(piece.strip()) >= MIN_SECRET:
                        self._secrets.add(piece.strip())

    def __call__(self, text: str) -> str:
        if not text:
            return text
        with self._lock:
            secrets = sorted(self._secrets, key=len, reverse=True)
        for secret in secrets:
            text = text.replace(secret, MASK)
        return text
