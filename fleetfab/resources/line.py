"""Single lines in files that others own, and kernel parameters."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from fleetfab.resources.base import Change, Resource, lines
from fleetfab.resources.file import place_here
from fleetfab.resources.safewrite import basename, dirname, enter
from fleetfab.shell import q

SYSCTL_FILE = "/etc/sysctl.d/90-fleetfab.conf"


def _set_line_script(path: str, line: str, match: str) -> str:
    """Replace the first line matching `match` (drop other matches) or append.

    Lines go into files that packages own, in directories only root can
    write; anywhere else the change is refused (`safewrite`).
    """
    program = (
        'BEGIN{done=0} $0 ~ ENVIRON["FF_RE"] {if (!done) print ENVIRON["FF_LINE"]; done=1; next} '
        '{print} END{if (!done) print ENVIRON["FF_LINE"]}'
    )
    return (
        "set -e\n"
        + enter(path, dirname(path))
        + f"name={q(basename(path))}\n"
        "[ -e \"$name\" ] || [ -L \"$name\" ] || touch -- \"$name\"\n"
        "tmp=$(mktemp ./.fleetfab.XXXXXX)\n"
        "trap 'rm -f -- \"$tmp\"' EXIT\n"
        f"FF_RE={q(match)} FF_LINE={q(line)} awk {q(program)} < \"$name\" > \"$tmp\"\n"
        "chown --reference=\"$name\" -- \"$tmp\"; chmod --reference=\"$name\" -- \"$tmp\"\n"
        f"{place_here()}"
    )


#: a kernel parameter's dotted name: levels of letters, digits, '_' and '-'
#: (net.bridge.bridge-nf-call-iptables), a slash standing for a dot inside a
#: level (net.ipv4.conf.eth0/100.forwarding). No level is empty, '.' or '..',
#: so the name cannot lead out of /proc/sys, and none starts with '-'.
_LEVEL = r"[A-Za-z0-9_][A-Za-z0-9_-]*"
SYSCTL_NAME = rf"[a-z][a-z0-9_]*(\.{_LEVEL}(/{_LEVEL})*)+"
PROC_SYS = "/proc/sys/"


def proc_path(name: str) -> str:
    """Where the kernel shows a parameter: dots separate levels, and a slash
    stands for a dot inside a level (eth0/100 is interface eth0.100), as in sysctl.

    Only a well-formed name has a path; any other is refused, so that no
    read or write of a parameter reaches a file outside /proc/sys."""
    if not isinstance(name, str) or re.fullmatch(SYSCTL_NAME, name) is None:
        raise ValueError(f"{name!r} is not a kernel parameter's dotted name")
    path = PROC_SYS + name.translate(str.maketrans("./", "/."))
    if posixpath.normpath(path) != path or not path.startswith(PROC_SYS):
        raise ValueError(f"{name!r} leads out of {PROC_SYS}")
    return path


def _line_probe(path: str, match: str) -> str:
    p = q(path)
    return f"if [ -f {p} ]; then grep -E -- {q(match)} {p} || true; else echo '@absent'; fi"


def _line_state(output: str, line: str) -> str:
    """'ok', 'absent' (no file), 'missing' or 'different'."""
    found = lines(output)
    if found == ["@absent"]:
        return "absent"
    if found == [line]:
        return "ok"
    return "missing" if not found else "different"


@dataclass(frozen=True)
class Line(Resource):
    """A line in a file; `match` (an extended regex) finds the line it replaces."""

    path: str
    line: str
    match: str | None = None

    @property
    def pattern(self) -> str:
        return self.match or "^" + re.escape(self.line).replace("\\ ", " ") + "$"

    @property
    def key(self) -> str:
        return f"line {self.path}: {self.line}"

    def probe(self) -> str:
        return _line_probe(self.path, self.pattern)

    def compare(self, output: str) -> Change | None:
        state = _line_state(output, self.line)
        if state == "ok":
            return None
        before = "".join(f"-{old}\n" for old in lines(output) if state == "different")
        return self.change("update" if state == "different" else "add", f"{state}: {self.line}", before + f"+{self.line}\n")

    def fix(self, change: Change) -> str:
        return _set_line_script(self.path, self.line, self.pattern)


@dataclass(frozen=True)
class Sysctl(Resource):
    """A kernel parameter, set now and kept across reboots."""

    name: str
    value: str | int

    def __post_init__(self):
        super().__post_init__()
        proc_path(self.name)  # refuses a name that is not a parameter's
        if re.search(r"[\x00-\x1f\x7f]", str(self.value)):
            raise ValueError(f"the value of {self.name} holds a control character: {self.value!r}")

    @property
    def key(self) -> str:
        return f"sysctl {self.name}"

    @property
    def line(self) -> str:
        return f"{self.name} = {self.value}"

    @property
    def pattern(self) -> str:
        return "^[[:space:]]*" + re.escape(self.name) + "[[:space:]]*="

    def probe(self) -> str:
        """The live value from /proc/sys by one process, then the persisted line.

        Not the shell's own `read`: dash reads a byte at a time, and the
        kernel answers any read of a /proc/sys number past offset 0 with EOF.
        """
        live = f"tr -s '[:space:]' ' ' < {q(proc_path(self.name))}; echo"
        return f"{live}; {_line_probe(SYSCTL_FILE, self.pattern)}"

    def compare(self, output: str) -> Change | None:
        live, _, persisted = output.partition("\n")
        live = " ".join(live.split())  # several fields are tab-separated in /proc/sys
        problems = []
        if live != str(self.value):
            problems.append(f"live value {live or '(unreadable)'} -> {self.value}")
        if _line_state(persisted, self.line) != "ok":
            problems.append(f"not persisted in {SYSCTL_FILE}")
        return self.change("update", "; ".join(problems)) if problems else None

    def fix(self, change: Change) -> str:
        # Only touch the live value when it differs: containers mount /proc/sys read-only.
        setting = q(f"{self.name}={self.value}")
        live = f"[ \"$(sysctl -n {q(self.name)} | tr -s '[:space:]' ' ')\" = {q(str(self.value))} ] || sysctl -q -w {setting}\n"
        return _set_line_script(SYSCTL_FILE, self.line, self.pattern) + live
