"""Debian packages, installed or removed together in one apt run."""

from __future__ import annotations

from dataclasses import dataclass

from fleetfab.resources.base import Change, Resource, lines
from fleetfab.shell import cmd

APT = (
    "DEBIAN_FRONTEND=noninteractive apt-get -q -y -o Dpkg::Options::=--force-confdef "
    "-o Dpkg::Options::=--force-confold -o DPkg::Lock::Timeout=300"
)

#: an apt run cut off half-way (its SSH connection lost) leaves dpkg saying it
#: "was interrupted" and refusing every install until someone runs this
REPAIR_DPKG = (
    "if [ -n \"$(ls -A /var/lib/dpkg/updates 2>/dev/null)\" ] || [ -n \"$(dpkg --audit 2>/dev/null)\" ]; then\n"
    "  echo 'dpkg was interrupted: dpkg --configure -a' >&2\n"
    "  DEBIAN_FRONTEND=noninteractive dpkg --force-confdef --force-confold --configure -a\n"
    "fi\n"
)


@dataclass(frozen=True)
class Packages(Resource):
    """A set of packages present (or absent); one resource, one apt run."""

    names: tuple[str, ...]
    present: bool = True
    recommends: bool = False

    def __post_init__(self):
        super().__post_init__()
        object.__setattr__(self, "names", tuple(self.names))

    @property
    def key(self) -> str:
        return f"packages {' '.join(self.names)}" if self.present else f"packages absent {' '.join(self.names)}"

    def probe(self) -> str:
        return f"dpkg-query -W -f='${{Package}} ${{db:Status-Status}}\\n' {cmd(*self.names)} 2>/dev/null || true"

    def _wrong(self, output: str) -> list[str]:
        installed = {name for name, _, status in (l.partition(" ") for l in lines(output)) if status == "installed"}
        return [n for n in self.names if (n in installed) != self.present]

    def compare(self, output: str) -> Change | None:
        wrong = self._wrong(output)
        if not wrong:
            return None
        verb = "install" if self.present else "remove"
        return self.change(verb, f"{verb} {' '.join(wrong)}", data=tuple(wrong))

    def fix(self, change: Change) -> str:
        names = change.data
        if not self.present:
            return f"set -e\n{REPAIR_DPKG}{APT} purge {cmd(*names)}\n"
        extra = "" if self.recommends else " --no-install-recommends"
        install = f"{APT} install{extra} {cmd(*names)}"
        # A fresh host may have no package lists yet, or stale ones.
        return f"set -e\n{REPAIR_DPKG}{install} || {{ apt-get -q update && {install}; }}\n"
