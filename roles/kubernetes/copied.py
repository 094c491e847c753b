"""Files copied byte for byte from the operator's machine: keys, .deb files, image archives.

A `File` holds text it renders; these hold whatever the operator's file
holds (a binary keyring, a package, an image archive), compared by SHA-256
so an unchanged file is never sent again. The content is read from disk
only when it must travel, and sent base64-encoded in the change's script:
fine for keys, packages and the images of one Kubernetes release; an
archive of gigabytes would want a copy over SFTP instead.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from fleetfab.resources.base import Change, Resource, lines
from fleetfab.resources.file import backup_script, replace_script
from fleetfab.shell import heredoc, q


@cache
def digest_of(path: str, size: int, mtime_ns: int) -> str:
    """SHA-256 of a local file, computed once per content stamp."""
    sha = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            sha.update(chunk)
    return sha.hexdigest()


def local_digest(path: Path) -> str:
    stat = path.stat()
    return digest_of(str(path), stat.st_size, stat.st_mtime_ns)


@dataclass(frozen=True)
class CopiedFile(Resource):
    source: str
    path: str
    mode: str = "0644"

    @property
    def key(self) -> str:
        return f"file {self.path}"

    @property
    def digest(self) -> str:
        return local_digest(Path(self.source))

    def probe(self) -> str:
        p = q(self.path)
        return f"if [ -f {p} ] && [ ! -L {p} ]; then stat -c '%a' {p}; sha256sum < {p}; else echo absent; fi"

    def compare(self, output: str) -> Change | None:
        found = lines(output) + ["", ""]
        if found[0] == "absent":
            return self.change("create", f"copy {Path(self.source).name} from the operator's machine")
        if found[1].split()[:1] != [self.digest]:
            return self.change("update", f"content differs from {Path(self.source).name} on the operator's machine")
        if found[0] != format(int(self.mode, 8), "o"):
            return self.change("update", f"mode {found[0]} -> {format(int(self.mode, 8), 'o')}")
        return None

    def fix(self, change: Change) -> str:
        p = q(self.path)
        encoded = base64.encodebytes(Path(self.source).read_bytes()).decode().strip()
        return (
            "set -e\n"
            f"mkdir -p \"$(dirname {p})\"\n"
            f"tmp=$(mktemp \"$(dirname {p})/.fleetfab.XXXXXX\")\ntrap 'rm -f \"$tmp\"' EXIT\n"
            f"base64 -d > \"$tmp\" {heredoc(encoded)}\n"
            f"[ \"$(sha256sum < \"$tmp\" | cut -d' ' -f1)\" = {q(self.digest)} ] || {{ echo 'copy arrived damaged' >&2; exit 3; }}\n"
            f"chmod {format(int(self.mode, 8), 'o')} \"$tmp\"\n"
            f"{backup_script(self.path) if not self.path.endswith(('.deb', '.tar')) else ''}"
            f"{replace_script(self.path)}"
        )
