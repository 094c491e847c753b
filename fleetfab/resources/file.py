"""Files and directories, written atomically after validation."""

from __future__ import annotations

import base64
import difflib
import hashlib
from dataclasses import dataclass

from fleetfab.facts import Shared
from fleetfab.resources.base import Change, Resource, lines
from fleetfab.resources.filestates import FILES
from fleetfab.resources.safewrite import basename, dirname, enter, walk
from fleetfab.shell import heredoc, q

BACKUP_ROOT = "/var/backups/fleetfab"
BACKUPS_KEPT = 5


def _mode(value: str | int) -> str:
    return format(int(str(value), 8), "o")


@dataclass(frozen=True)
class File(Resource):
    """A file with exact content, owner and mode.

    `validate` is the service's own checker with %s for the new file; the
    file replaces the old one only if it passes, and the old one is kept in
    /var/backups/fleetfab (root's alone). A secret file's content never
    leaves the engine in a diff, is never read back from the host, and keeps
    no backup. Where the file goes, and who writes it, is decided on the host
    by `fleetfab.resources.safewrite`: root in a directory only root can
    write, else the file's own owner in its own directory, else refused.
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
        # dd's nofollow: a file swapped for a link after the test below is not read through it
        read = f"dd if={p} iflag=nofollow status=none"
        content = f"{read} | sha256sum" if self.secret else f"{read} | base64 -w0; echo"
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
        return "set -e\n" + enter(self.path, dirname(self.path), self.owner, self.group) + self._write_here()

    def _fix_metadata(self) -> str:
        """Root changes owner and mode only in a directory no one else can write;
        in an account's own directory that account writes the file anew instead."""
        owner = q(f"{self.owner}:{self.group}")
        return (
            "set -e\n" + enter(self.path, dirname(self.path), self.owner, self.group)
            + f"name={q(basename(self.path))}\n"
            + "if [ -z \"$ff_as\" ] && [ -f \"$name\" ] && [ ! -L \"$name\" ]; then\n"
            + f"chown -h {owner} -- \"$name\"\nchmod {_mode(self.mode)} -- \"$name\"\nelse\n"
            + self._write_here() + "fi\n"
        )

    def _write_here(self) -> str:
        """Write, check and move the file into place, inside the directory entered.

        The temporary file is made by the writer in the directory itself, so
        the final rename is atomic; root makes it only where root alone can
        write, so no one can swap it between root's steps.
        """
        encoded = base64.encodebytes(self.data).decode().strip()
        check = ""
        if self.validate:
            validator = "tmp=$1; " + self.validate.replace("%s", '"$tmp"')
            check = (
                f"if ! out=$($ff_as sh -c {q(validator)} sh \"$ff_dir/${{tmp#./}}\" 2>&1); then\n"
                f"  echo {q(f'validation failed, {self.path} left as it was:')} \"$out\" >&2; exit 3\nfi\n"
            )
        return (
            f"name={q(basename(self.path))}\n"
            "tmp=$($ff_as mktemp ./.fleetfab.XXXXXX)\n"
            "trap '$ff_as rm -f -- \"$tmp\"' EXIT\n"
            f"$ff_as sh -c 'base64 -d > \"$1\"' sh \"$tmp\" {heredoc(encoded)}\n"
            f"$ff_as chown -h {q(self.owner)}:{q(self.group)} -- \"$tmp\"\n$ff_as chmod {_mode(self.mode)} -- \"$tmp\"\n"
            f"{check}"
            f"{forget_backups(self.path) if self.secret else backup_here(self.path)}"
            f"{place_here(self.owner, self.group, _mode(self.mode))}"
        )


def place_here(owner: str | None = None, group: str = "", mode: str = "") -> str:
    """Move $tmp over $name in the directory entered, then check what is there
    (a regular file with `owner`, `group` and `mode`, when they are given).

    A file that is itself a mount point (a container's /etc/hosts) cannot be
    replaced, only rewritten, so it is copied over in place instead.
    """
    check = ""
    if owner is not None:
        wanted = f"{owner}:{group}|{mode}"
        check = (f"  case \"$(stat -c '%F|%U:%G|%a' -- \"$name\")\" in {q('regular file|' + wanted)}|{q('regular empty file|' + wanted)}) ;;\n"
                 "    *) ff_refuse \"$name was changed while it was written\";;\n  esac\n")
    return (
        "if awk -v p=\"$ff_dir/$name\" '$5 == p { found = 1 } END { exit !found }' /proc/self/mountinfo; then\n"
        "  $ff_as sh -c 'cat -- \"$1\" > \"$2\"' sh \"$tmp\" \"$name\"; $ff_as rm -f -- \"$tmp\"\n"
        "else\n  $ff_as mv -T -f -- \"$tmp\" \"$name\"\n"
        f"{check}fi\ntrap - EXIT\n"
    )


def replace_script(path: str) -> str:
    """Move "$tmp" over `path`, for scripts that made it in a directory only root can write.

    A file that is itself a mount point (a container's /etc/hosts) cannot be
    replaced, only rewritten, so it is copied over in place instead.
    """
    p = q(path)
    return (
        f"if awk -v p={p} '$5 == p {{ found = 1 }} END {{ exit !found }}' /proc/self/mountinfo; then\n"
        f"  cat \"$tmp\" > {p}; rm -f \"$tmp\"\n"
        f"else\n  mv -T -f \"$tmp\" {p}\nfi\n"
        "trap - EXIT\n"
    )


def backup_folder(path: str) -> str:
    return q(f"{BACKUP_ROOT}{path if path.startswith('/') else '/' + path}.d")


def _keep_backup(path: str, read: str) -> str:
    """Root keeps the copy in its own folder; `read` prints the old file (as its writer)."""
    folder = backup_folder(path)
    return (
        f"(umask 077; mkdir -p {folder}); chmod 700 {q(BACKUP_ROOT)}; "
        f"{read} > {folder}/$(date -u +%Y%m%dT%H%M%S.%N); "
        f"ls -1 {folder} | sort -r | tail -n +{BACKUPS_KEPT + 1} | sed 's|^|'{folder}'/|' | xargs -r rm -f"
    )


def backup_script(path: str) -> str:
    """Keep the file being replaced, and only the last few of them, for paths only root can change."""
    p = q(path)
    return f"if [ -f {p} ] && [ ! -L {p} ]; then {_keep_backup(path, f'cat -- {p}')}; fi\n"


def backup_here(path: str) -> str:
    """Keep $name of the directory entered, read by its writer: root-only copies."""
    keep = _keep_backup(path, '$ff_as cat -- "$name"')
    return f"if [ -f \"$name\" ] && [ ! -L \"$name\" ]; then {keep}; fi\n"


def forget_backups(path: str) -> str:
    """A secret file keeps no backup: the old secret would outlive its rotation
    (backups of secrets that earlier versions kept are removed too)."""
    return f"rm -rf -- {backup_folder(path)}\n"


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
        return "set -e\n" + walk(self.path, dirname(self.path)) + self._make_here()

    def _make_here(self) -> str:
        """Made by root with `mkdir` (which follows no link), then entered, so
        that owner and mode are changed on the directory itself ('.'): no
        name another account can swap is used after the check."""
        return (
            f"name={q(basename(self.path))}\n"
            f"[ -e \"$name\" ] || [ -L \"$name\" ] || mkdir -m {_mode(self.mode)} -- \"$name\"\n"
            "[ ! -L \"$name\" ] && [ -d \"$name\" ] || ff_refuse \"$name is not a directory\"\n"
            "ff_step \"$name\"\n"
            f"chown {q(self.owner)}:{q(self.group)} .\nchmod {_mode(self.mode)} .\n"
        )


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
        # rm removes the name, never what a link points to; the backup is read
        # only where no other account can swap the file for a link
        return ("set -e\n" + walk(self.path, dirname(self.path)) + f"name={q(basename(self.path))}\n"
                + "if ff_root_only .; then ff_as=\n" + backup_here(self.path) + "fi\n" + "rm -f -- \"$name\"\n")
