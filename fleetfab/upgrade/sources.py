"""A Debian release's suites switched in a host's apt sources, and nothing else.

Debian's own suites of the release (`bookworm`, `bookworm-updates`,
`bookworm-security`, `bookworm-backports`, ...) become the next release's, in
the deb822 files (`/etc/apt/sources.list.d/*.sources`, the `Suites:` field)
and the one-line ones (`/etc/apt/sources.list`, `*.list`). Addresses are never
touched, so no registry's name is written by fleetfab. A suite that names the
old release in a way Debian's do not (a third party's `bookworm-pgdg`) is
refused: whether its publisher has one for the new release is the operator's
to find out.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from fleetfab.resources import Change, File, Resource

#: Debian's own suites of a release: the codename, and these after a dash
DEBIAN_SUFFIXES = ("updates", "security", "backports", "backports-sloppy", "proposed-updates")
#: a source file fleetfab reads and may rewrite (a host's answer naming another path is refused)
SOURCE_PATH = re.compile(r"/etc/apt/sources\.list|/etc/apt/sources\.list\.d/[A-Za-z0-9_.:-]{1,200}\.(?:list|sources)")
MAX_FILE = 64 * 1024
_ONE_LINE = re.compile(r"^(?P<head>\s*deb(?:-src)?\s+(?:\[[^\]]*\]\s+)?\S+\s+)(?P<suite>\S+)(?P<rest>.*)$")


class SourcesError(Exception):
    """A source this switch will not rewrite; the message says which and why."""


@dataclass(frozen=True)
class SourceFile:
    path: str
    text: str


def switched_suite(suite: str, old: str, new: str, where: str) -> str:
    """`suite` for the new release; unchanged when it does not name the old one; refused when it names it oddly."""
    if suite == old:
        return new
    if suite.startswith(old + "-") and suite[len(old) + 1:] in DEBIAN_SUFFIXES:
        return new + suite[len(old):]
    if old in suite:
        raise SourcesError(f"{where}: suite {suite!r} is not one of Debian's for {old}: switch or remove it by hand "
                           f"(fleetfab cannot know whether its publisher has one for {new})")
    return suite


def switch_deb822(text: str, old: str, new: str, path: str) -> str:
    """The `Suites:` fields of a .sources file switched (continuation lines included); comments kept."""
    out = []
    in_suites = False
    for number, line in enumerate(text.splitlines(keepends=True), 1):
        body = line.rstrip("\n")
        where = f"{path}:{number}"
        if body.startswith("#"):
            out.append(line)
            continue
        field = re.match(r"([A-Za-z0-9-]+):(.*)$", body)
        if field:
            in_suites = field.group(1).lower() == "suites"
            if in_suites:
                line = f"{field.group(1)}:{_switch_words(field.group(2), old, new, where)}" + line[len(body):]
        elif in_suites and body[:1] in (" ", "\t") and body.strip():
            line = _switch_words(body, old, new, where) + line[len(body):]
        else:
            in_suites = False
        out.append(line)
    return "".join(out)


def _switch_words(text: str, old: str, new: str, where: str) -> str:
    return re.sub(r"\S+", lambda m: switched_suite(m.group(0), old, new, where), text)


def switch_one_line(text: str, old: str, new: str, path: str) -> str:
    """`deb [options] URI suite components` lines switched; comments and other lines kept as they are."""
    out = []
    for number, line in enumerate(text.splitlines(keepends=True), 1):
        body = line.rstrip("\n")
        match = _ONE_LINE.match(body)
        if match and not body.lstrip().startswith("#"):
            suite = switched_suite(match["suite"], old, new, f"{path}:{number}")
            line = match["head"] + suite + match["rest"] + line[len(body):]
        out.append(line)
    return "".join(out)


def switch(source: SourceFile, old: str, new: str) -> str:
    if source.path.endswith(".sources"):
        return switch_deb822(source.text, old, new, source.path)
    return switch_one_line(source.text, old, new, source.path)


FILE_MARK = "@source"


def probe() -> str:
    """Each source file as `@source PATH SIZE`, then its first MAX_FILE bytes in base64; links are named, not read."""
    return (
        "for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do "
        "if [ -L \"$f\" ]; then echo \"@link $f\"; "
        f"elif [ -f \"$f\" ]; then echo \"{FILE_MARK} $f $(stat -c %s -- \"$f\")\"; "
        f"head -c {MAX_FILE} -- \"$f\" | base64 -w0; echo; fi; done"
    )


def parse(output: str) -> list[SourceFile]:
    """The files in the probe's answer; a path, size or content that does not fit is refused."""
    files = []
    lines = output.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line.strip():
            continue
        if line.startswith("@link "):
            raise SourcesError(f"{_path(line[6:])} is a symbolic link: fleetfab rewrites only regular files")
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != FILE_MARK or not parts[2].isdigit():
            raise SourcesError("the host's list of apt sources is not in the probe's format")
        path, size = _path(parts[1]), int(parts[2])
        if size > MAX_FILE:
            raise SourcesError(f"{path} is larger than {MAX_FILE} bytes: not an apt source fleetfab rewrites")
        encoded = lines[index] if index < len(lines) else ""
        index += 1
        try:
            text = base64.b64decode(encoded, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise SourcesError(f"{path} is not text") from None
        if len(text.encode()) != size:
            raise SourcesError(f"{path} changed while it was read")
        files.append(SourceFile(path, text))
    return files


def _path(value: str) -> str:
    if not SOURCE_PATH.fullmatch(value):
        raise SourcesError("a source file name outside /etc/apt/sources.list(.d) was refused")
    return value


@dataclass(frozen=True)
class SourcesSwitched(Resource):
    """Every apt source of the host names the `new` release's Debian suites instead of the `old` one's."""

    old: str
    new: str

    @property
    def key(self) -> str:
        return f"apt sources {self.old} -> {self.new}"

    def probe(self) -> str:
        return probe()

    def switched(self, output: str) -> list[tuple[SourceFile, str]]:
        """(file, its text once switched) for every source file; SourcesError for one that cannot be."""
        files = parse(output)
        if not files:
            raise SourcesError("the host has no apt source in /etc/apt/sources.list(.d)")
        return [(f, switch(f, self.old, self.new)) for f in files]

    def rewrites(self, output: str) -> list[tuple[SourceFile, str]]:
        """(file, its new text) for every file that changes."""
        return [(f, text) for f, text in self.switched(output) if text != f.text]

    def compare(self, output: str) -> Change | None:
        try:
            every = self.switched(output)
        except SourcesError as exc:
            return self.change("refused", str(exc))
        rewrites = [(f, text) for f, text in every if text != f.text]
        if not rewrites:
            return None
        diff = "".join(_file(f.path, text).compare(_probe_answer(f)).diff for f, text in rewrites)
        # every file, switched or not, for the release's preview in a private copy of apt's state
        return self.change("switch", f"{', '.join(f.path for f, _ in rewrites)}: {self.old} -> {self.new}", diff,
                           data=tuple((f.path, text, text != f.text) for f, text in every))

    def fix(self, change: Change) -> str:
        if change.action == "refused":
            return f"echo {_quoted(change.summary)} >&2\nexit 3\n"
        scripts = [_file(path, text).fix(Change(f"file {path}", "update", "switch the suites"))
                   for path, text, changed in change.data if changed]
        # each in a subshell of its own: a write enters its directory and sets its own cleanup
        return "set -e\n" + "".join(f"(\n{script})\n" for script in scripts)


def _file(path: str, text: str) -> File:
    return File(path, text, mode="0644")


def _probe_answer(source: SourceFile) -> str:
    """What File's own probe would have printed for this content (so its diff can be reused)."""
    return f"root root 644\n{base64.b64encode(source.text.encode()).decode()}\n"


def _quoted(text: str) -> str:
    from fleetfab.shell import q

    return q(text)
