"""Files and directories, written atomically after validation."""

from __future__ import annotations

import base64
import difflib
import hashlib
from dataclasses import dataclass

from fleetfab.facts import Shared
from fleetfab.resources.base import Change, Resource, lines
from fleetfab.resources.filestates import FILES
from fleetfab.shell import cmd, heredoc, q

BACKUP_ROOT = "/var/backups/fleetfab"
BACKUPS_KEPT = 5


def _mode(value: str | int) -> str:
    return format(int(str(value), 8), "o")


@dataclass(frozen=True)
class File(Resource):
    """A file with exact content, owner and mode.

    `validate` is the service's own checker with %s for the new file; the
    file replaces the old one only if it passes, and the old one is kept in
    /var/backups/fleetfab. A secret file's content never leaves the engine in
    a diff, and is never read back from the host.
    """

    path: str
    content: str
    owner: str = "root"
    group: str = "root"
    mode: str = "0644"
    validate: str | None = None
    secret: bool = False

    @property
    def key(self) -> str:
        return f"file {self.path}"

    @property
    def data(self) -> bytes:
        return self.content.encode()

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    def secrets(self) -> tuple[str, ...]:
        return (self.content,) if self.secret else ()

    def probe(self) -> str:
        """Metadata and content (a secret file: its hash only), compared here.

        Comparing on the engine's side keeps the probe at two processes a
        file; configuration files are small, and hosts' CPU is the cost.
        """
        p = q(self.path)
        content = f"sha256sum < {p}" if self.secret else f"base64 -w0 < {p}; echo"
        return (
            f"if [ -L {p} ]; then echo link; elif [ -f {p} ]; then stat -c '%U %G %a' {p}; {content}; "
            f"elif [ -e {p} ]; then echo other; else echo absent; fi"
        )

    def shared_probe(self) -> Shared | None:
        """A secret file's content never leaves the host, so it is not archived."""
        return None if self.secret else Shared(FILES, self.path)

    def compare(self, output: str) -> Change | None:
        out = lines(output)
        state = out[0] if out else "absent"
        if state == "absent":
            return self.change("create", f"create ({self.owner}:{self.group} {_mode(self.mode)})", self._diff(None))
        if state in ("link", "other"):
            return self.change("replace", f"replace a {'symlink' if state == 'link' else 'non-regular file'}", self._diff(None))
        owner, group, mode = state.split()
        found = out[1] if len(out) > 1 else ""
        differences = []
        diff = ""
        if not self._same_content(found):
            differences.append("content")
            diff = self._diff(None if self.secret else base64.b64decode(found).decode(errors="replace"))
        if (owner, group) != (self.owner, self.group):
            differences.append(f"owner {owner}:{group} -> {self.owner}:{self.group}")
        if mode != _mode(self.mode):
            differences.append(f"mode {mode} -> {_mode(self.mode)}")
        if not differences:
            return None
        action = "update" if "content" in differences else "metadata"
        return self.change(action, ", ".join(differences), diff)

    def _same_content(self, found: str) -> bool:
        if self.secret:
            return found.split()[:1] == [self.digest]
        return base64.b64decode(found) == self.data

    def _diff(self, old: str | None) -> str:
        if self.secret:
            return "(secret content, not shown)"
        before = [] if old is None else old.splitlines(keepends=True)
        after = self.content.splitlines(keepends=True)
        origin = "/dev/null" if old is None else f"{self.path} (host)"
        return "".join(difflib.unified_diff(before, after, origin, f"{self.path} (desired)"))

    def fix(self, change: Change) -> str:
        if change.action == "metadata":
            return self._fix_metadata()
        return self._fix_content()

    def _fix_metadata(self) -> str:
        p = q(self.path)
        return f"set -e\nchown {q(self.owner)}:{q(self.group)} {p}\nchmod {_mode(self.mode)} {p}\n"

    def _fix_content(self) -> str:
        p = q(self.path)
        encoded = base64.encodebytes(self.data).decode().strip()
        check = ""
        if self.validate:
            validator = self.validate.replace("%s", '"$tmp"')
            check = (
                f"if ! out=$({validator} 2>&1); then\n"
                f"  echo {q(f'validation failed, {self.path} left as it was:')} \"$out\" >&2; exit 3\nfi\n"
            )
        return (
            "set -e\n"
            f"mkdir -p \"$(dirname {p})\"\n"
            f"tmp=$(mktemp \"$(dirname {p})/.fleetfab.XXXXXX\")\n"
            "trap 'rm -f \"$tmp\"' EXIT\n"
            f"base64 -d > \"$tmp\" {heredoc(encoded)}\n"
            f"chown {q(self.owner)}:{q(self.group)} \"$tmp\"\nchmod {_mode(self.mode)} \"$tmp\"\n"
            f"{check}"
            f"{backup_script(self.path)}"
            f"{replace_script(self.path)}"
        )


def replace_script(path: str) -> str:
    """Move the new file into place atomically.

    A file that is itself a mount point (a container's /etc/hosts) cannot be
    replaced, only rewritten, so it is copied over in place instead.
    """
    p = q(path)
    return (
        f"if awk -v p={p} '$5 == p {{ found = 1 }} END {{ exit !found }}' /proc/self/mountinfo; then\n"
        f"  cat \"$tmp\" > {p}; rm -f \"$tmp\"\n"
        f"else\n  mv -f \"$tmp\" {p}\nfi\n"
        "trap - EXIT\n"
    )


def backup_script(path: str) -> str:
    """Keep the file being replaced, and only the last few of them."""
    folder = q(f"{BACKUP_ROOT}{path if path.startswith('/') else '/' + path}.d")
    p = q(path)
    return (
        f"if [ -f {p} ]; then mkdir -p {folder}; chmod 700 {q(BACKUP_ROOT)}; "
        f"cp -p {p} {folder}/$(date -u +%Y%m%dT%H%M%S.%N); "
        f"ls -1 {folder} | sort -r | tail -n +{BACKUPS_KEPT + 1} | sed 's|^|'{folder}'/|' | xargs -r rm -f; fi\n"
    )


@dataclass(frozen=True)
class Directory(Resource):
    path: str
    owner: str = "root"
    group: str = "root"
    mode: str = "0755"

    @property
    def key(self) -> str:
        return f"directory {self.path}"

    def probe(self) -> str:
        p = q(self.path)
        return f"if [ -d {p} ] && [ ! -L {p} ]; then stat -c '%U %G %a' {p}; elif [ -e {p} ]; then echo other; else echo absent; fi"

    def compare(self, output: str) -> Change | None:
        state = output.strip() or "absent"
        if state == "absent":
            return self.change("create", f"create ({self.owner}:{self.group} {_mode(self.mode)})")
        if state == "other":
            return self.change("conflict", "exists but is not a directory; refusing to replace it")
        owner, group, mode = state.split()
        if (owner, group, mode) == (self.owner, self.group, _mode(self.mode)):
            return None
        return self.change("update", f"{owner}:{group} {mode} -> {self.owner}:{self.group} {_mode(self.mode)}")

    def fix(self, change: Change) -> str:
        if change.action == "conflict":
            return f"echo {q(self.path + ' exists and is not a directory')} >&2; exit 3"
        return "set -e\n" + cmd("install", "-d", "-o", self.owner, "-g", self.group, "-m", _mode(self.mode), self.path) + "\n"


@dataclass(frozen=True)
class Absent(Resource):
    """A file that must not exist; the removed file is kept as a backup."""

    path: str

    @property
    def key(self) -> str:
        return f"absent {self.path}"

    def probe(self) -> str:
        p = q(self.path)
        return f"if [ -e {p} ] || [ -L {p} ]; then echo present; else echo absent; fi"

    def compare(self, output: str) -> Change | None:
        return self.change("remove", f"remove {self.path}") if output.strip() == "present" else None

    def fix(self, change: Change) -> str:
        return "set -e\n" + backup_script(self.path) + f"rm -f {q(self.path)}\n"
