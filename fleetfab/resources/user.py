"""Local user accounts."""

from __future__ import annotations

from dataclasses import dataclass

from fleetfab.resources.base import Change, Resource, lines
from fleetfab.shell import cmd, q


@dataclass(frozen=True)
class User(Resource):
    """An account with its shell, home and supplementary groups.

    Groups listed here are added; groups the account has beyond them are
    left alone, since packages add service accounts to groups too.
    """

    name: str
    shell: str = "/bin/bash"
    groups: tuple[str, ...] = ()
    home: str | None = None
    comment: str = ""

    def __post_init__(self):
        super().__post_init__()
        object.__setattr__(self, "groups", tuple(self.groups))

    @property
    def home_dir(self) -> str:
        return self.home or ("/root" if self.name == "root" else f"/home/{self.name}")

    @property
    def key(self) -> str:
        return f"user {self.name}"

    def probe(self) -> str:
        return f"getent passwd {q(self.name)} || echo '@absent'; id -nG {q(self.name)} 2>/dev/null || true"

    def compare(self, output: str) -> Change | None:
        found = lines(output) + [""]
        if found[0] == "@absent":
            return self.change("create", f"create {self.name} ({self.shell}, groups {', '.join(self.groups) or '-'})")
        fields = found[0].split(":")
        missing = [g for g in self.groups if g not in found[1].split()]
        problems = []
        if len(fields) < 7 or fields[6] != self.shell:
            problems.append(f"shell -> {self.shell}")
        if len(fields) >= 6 and fields[5] != self.home_dir:
            problems.append(f"home {fields[5]} -> {self.home_dir}")
        if missing:
            problems.append(f"add to {', '.join(missing)}")
        return self.change("update", "; ".join(problems)) if problems else None

    def fix(self, change: Change) -> str:
        groups = ["-G", ",".join(self.groups)] if self.groups else []
        if change.action == "create":
            return "set -e\n" + cmd("useradd", "-m", "-d", self.home_dir, "-s", self.shell, *groups, "-c", self.comment, self.name) + "\n"
        append = ["-a", "-G", ",".join(self.groups)] if self.groups else []
        return "set -e\n" + cmd("usermod", "-d", self.home_dir, "-s", self.shell, *append, self.name) + "\n"
