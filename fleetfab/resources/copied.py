"""Files copied from the operator's machine: too big, or too binary, for a script.

A `File` travels inside the fix script; an image, a package bundle or a
wheelhouse travels on a channel of its own (`Upload`), to a fresh folder of
root's alone (`fleetfab.staging`) where the fix checks it by SHA-256 before
it moves the file into place. So a transfer cut short never becomes the file,
no other account can touch it on the way, and the file is compared by hash,
never read back.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from fleetfab.resources.base import Change, Resource
from fleetfab.resources.safewrite import basename, dirname, enter
from fleetfab.shell import cmd, q
from fleetfab.staging import STAGING_ROOT, folder_of, root_only_check, staged_path

@dataclass(frozen=True)
class Upload:
    """A local file the engine sends to `staged` on the host before the fix runs."""

    local: Path
    staged: str


def file_digest(path: str | os.PathLike) -> str:
    """SHA-256 of a local file, computed once per file version in a run."""
    stat = os.stat(path)
    return _digest(str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns)


@cache
def _digest(path: str, size: int, mtime_ns: int) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as source:
        while chunk := source.read(1 << 20):
            sha.update(chunk)
    return sha.hexdigest()


def install_staged(staged: str, digest: str, path: str, owner: str, group: str, mode: str, record: bool = False) -> str:
    """Shell lines that check a staged file and move it into place, atomically.

    Owner and mode are set in the staging folder, which only root can enter,
    and the SHA-256 is checked there after them, right before the move: what
    is checked is what is installed. The target's directory must be one only
    root can write (`safewrite`). Across filesystems the file is copied to a
    temporary name beside the target first, so the final step is a rename.
    With `record`, the digest is written beside the file (`<path>.sha256`).
    """
    folder = folder_of(staged)
    damaged = f"the copy of {path} arrived damaged (SHA-256 differs); the file was left as it was"
    lines = [
        "set -e",
        root_only_check(STAGING_ROOT),
        root_only_check(folder),
        f"trap {q('rm -rf -- ' + q(folder))} EXIT",
        cmd("chown", "-h", f"{owner}:{group}", "--", staged),
        cmd("chmod", mode, "--", staged),
        f"if ! echo {q(digest + '  ' + staged)} | sha256sum -c --status -; then",
        f"  echo {q(damaged)} >&2; exit 1",
        "fi",
        enter(path, dirname(path)).rstrip("\n"),
        f"name={q(basename(path))}",
        f"if [ \"$(stat -c %d -- {q(folder)})\" = \"$(stat -c %d .)\" ]; then",
        f"  mv -T -f -- {q(staged)} \"$name\"",
        "else",
        "  tmp=$(mktemp ./.fleetfab.XXXXXX)",
        f"  cp -- {q(staged)} \"$tmp\"",
        f"  chown -h {q(owner + ':' + group)} -- \"$tmp\"; chmod {q(mode)} -- \"$tmp\"",
        "  mv -T -f -- \"$tmp\" \"$name\"",
        "fi",
    ]
    if record:
        lines += ["tmp=$(mktemp ./.fleetfab.XXXXXX)", f"echo {q(digest)} > \"$tmp\"", "chmod 644 -- \"$tmp\"",
                  "mv -T -f -- \"$tmp\" \"$name.sha256\""]
    lines += [f"rm -rf -- {q(folder)}", "trap - EXIT"]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Copied(Resource):
    """A file on the host exactly as `source` is on the operator's machine."""

    path: str
    source: str
    owner: str = "root"
    group: str = "root"
    mode: str = "0644"
    #: for big files: the SHA-256 is written beside the file when it arrives
    #: (`<path>.sha256`) and read back, instead of hashing the file at every read
    recorded: bool = False
    #: a shell condition under which the file must not be replaced (a base image guests are built on)
    keep_if: str | None = None
    #: the owner is someone else's business (libvirt hands a running guest's images to QEMU's user, then back)
    any_owner: bool = False

    @property
    def key(self) -> str:
        return f"file {self.path}"

    @property
    def available(self) -> bool:
        """The operator's file is on this machine (an ops host checking the fleet has none)."""
        return os.path.isfile(self.source)

    def note(self, output: str) -> str | None:
        if self.available:
            return None
        return f"{self.path}: not compared, {self.source} is not on this machine"

    @property
    def digest(self) -> str:
        return file_digest(self.source)

    @property
    def mode_octal(self) -> str:
        return format(int(self.mode, 8), "o")

    def probe(self) -> str:
        p = q(self.path)
        digest = f"cat {q(self.path + '.sha256')} 2>/dev/null || echo none" if self.recorded else f"sha256sum {p} | cut -d' ' -f1"
        return f"if [ -f {p} ]; then stat -c '%U:%G %a' {p}; {digest}; else echo '@absent'; fi"

    def compare(self, output: str) -> Change | None:
        if not self.available:
            return None
        found = output.split()
        if not found or found[0] == "@absent":
            return self.change("create", f"copy {Path(self.source).name} ({_size(self.source)})")
        if len(found) < 3 or found[2] != self.digest:
            return self.change("update", f"copy {Path(self.source).name} ({_size(self.source)}): content differs")
        wanted = [found[0] if self.any_owner else f"{self.owner}:{self.group}", self.mode_octal]
        if found[:2] != wanted:
            return self.change("update", f"owner/mode {' '.join(found[:2])} -> {' '.join(wanted)}")
        return None

    def uploads(self, change: Change) -> tuple[Upload, ...]:
        if change.summary.startswith("owner/mode"):
            return ()
        return (Upload(Path(self.source), staged_path(self.path, self.digest)),)

    def fix(self, change: Change) -> str:
        if change.summary.startswith("owner/mode"):
            return self._fix_metadata()
        staged = staged_path(self.path, self.digest)
        lines = []
        if self.keep_if and change.action != "create":
            lines += [f"if {self.keep_if}; then",
                      f"  rm -rf -- {q(folder_of(staged))}",
                      f"  echo {q(f'{self.path} is in use: it is not replaced (give a new version a new name)')} >&2; exit 1",
                      "fi"]
        lines.append(install_staged(staged, self.digest, self.path, self.owner, self.group, self.mode, record=self.recorded))
        return "\n".join(lines)

    def _fix_metadata(self) -> str:
        """In the directory entered (root's alone), on the name itself: no link is followed."""
        chown = "" if self.any_owner else f"chown -h {q(self.owner + ':' + self.group)} -- \"$name\"\n"
        return ("set -e\n" + enter(self.path, dirname(self.path)) + f"name={q(basename(self.path))}\n"
                "[ -f \"$name\" ] && [ ! -L \"$name\" ] || ff_refuse \"$name is not a regular file\"\n"
                + chown + f"chmod {q(self.mode)} -- \"$name\"\n")


def _size(path: str) -> str:
    size = os.stat(path).st_size
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return ""
