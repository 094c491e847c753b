"""Secrets on the ops host's side: never read, compared by the digests the operator's bootstrap recorded.

A secret export (a TSIG key) is not read by the ops copy: it stands in the
book as `SEALED`, so the roles that render it still state their files, and
every secret file is compared, content by digest, against the digest the
operator's bootstrap wrote into the host's read side (it rendered the real
content). Owner, group and mode are compared as the role states them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields

from fleetfab.resources.file import File

#: what a secret export reads as in the ops copy's desired state (never written anywhere)
SEALED = "(sealed: a secret the ops host never reads)"
DIGEST = re.compile(r"[0-9a-f]{64}")
#: the most secret files one host's answer may record
MAX_RECORDED = 4096


def readable(wanted: list) -> tuple[list, list]:
    """(role, key, export) items split into (those the ops host reads, the secret ones it never reads)."""
    return [item for item in wanted if not item[2].secret], [item for item in wanted if item[2].secret]


def seal(book, host: str, sealed: list) -> None:
    for role, key, _ in sealed:
        book.seal(host, role, key, SEALED)


@dataclass(frozen=True)
class RecordedSecretFile(File):
    """A secret file whose content is compared with the digest the operator's bootstrap recorded."""

    recorded: str = ""

    @property
    def digest(self) -> str:
        return self.recorded


def with_recorded_secrets(resources: list, recorded: dict[str, str]) -> list:
    """Each secret File replaced by one compared with its recorded digest (no digest recorded: always differs)."""
    return [recorded_file(r, recorded.get(r.path, "")) if type(r) is File and r.secret else r for r in resources]


def recorded_file(file: File, digest: str) -> RecordedSecretFile:
    return RecordedSecretFile(**{f.name: getattr(file, f.name) for f in fields(File)}, recorded=digest)


def recorded_shape(answer) -> dict[str, str]:
    """The host's recorded digests, checked: absolute paths to 64 hex digits, bounded."""
    if not isinstance(answer, dict) or len(answer) > MAX_RECORDED:
        raise ValueError("the recorded digests are not a mapping of at most %d paths" % MAX_RECORDED)
    for path, digest in answer.items():
        if not (isinstance(path, str) and path.startswith("/") and len(path) < 4096 and path.isprintable()
                and isinstance(digest, str) and DIGEST.fullmatch(digest)):
            raise ValueError("a recorded digest is not an absolute path and 64 hex digits")
    return dict(answer)


def secret_digests(resources: list) -> dict[str, str]:
    """path -> sha256 of each secret File's content, as the operator's run renders it."""
    return {r.path: r.digest for r in resources if isinstance(r, File) and r.secret}
