"""apt's, dpkg's and df's answers, read strictly.

What a host prints is untrusted: a line that should be apt's and does not fit
its format is refused (AptAnswerError) rather than guessed at, and every name
and version must have the shape of a Debian package name and version. The
commands run with LC_ALL=C, so the words are apt's English ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fleetfab.release import PACKAGE, VERSION
from fleetfab.text import one_line

#: the environment every apt command runs in: English words, and no question asked
APT_ENV = "LC_ALL=C DEBIAN_FRONTEND=noninteractive"
#: dpkg keeps the files as they are on the host (the inventory's) and takes the default where no one changed one
KEEP_FILES = "-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold"
#: the most of one answer read (apt's simulation of a whole release upgrade is a few hundred kB)
MAX_ANSWER = 4 << 20
#: an origin as apt prints it ("Debian-Security:12/stable-security, Debian:12.8/stable")
ORIGIN = re.compile(r"[A-Za-z0-9 ._:/,+~@-]{0,400}")

_INST = re.compile(r"Inst (?P<name>\S+) (?:\[(?P<old>[^\]\s]+)\] )?\((?P<new>\S+)(?: (?P<origin>[^\[\]]*?))? "
                   r"\[(?P<arch>[a-z0-9-]+)\]\)(?: \[[^\]]*\])*")
_CONF = re.compile(r"Conf (?P<name>\S+) \((?P<new>\S+)(?: [^\[\]]*?)? \[[a-z0-9-]+\]\)(?: \[[^\]]*\])*")
_REMV = re.compile(r"(?:Remv|Purg) (?P<name>\S+)(?: \[(?P<old>[^\]\s]+)\])?(?: \[[^\]]*\])*")
_SUMMARY = re.compile(r"(?P<upgraded>\d+) upgraded, (?P<new>\d+) newly installed, (?:(?P<downgraded>\d+) downgraded, )?"
                      r"(?:(?P<reinstalled>\d+) reinstalled, )?(?P<remove>\d+) to remove and (?P<kept>\d+) not upgraded\.")
_SIZE = re.compile(r"(?P<number>[0-9]+(?:[.,][0-9]+)?) ?(?P<unit>B|kB|MB|GB|TB)")
_AMOUNT = r"[0-9]+(?:[.,][0-9]+)? ?(?:B|kB|MB|GB|TB)"
_NEED = re.compile(rf"Need to get (?P<get>{_AMOUNT})(?:/(?P<total>{_AMOUNT}))? of archives\.")
_AFTER = re.compile(rf"After this operation, (?P<size>{_AMOUNT}) (?:of additional )?disk space will be (?P<way>used|freed)\.")
_UNITS = {"B": 1, "kB": 1000, "MB": 1000 ** 2, "GB": 1000 ** 3, "TB": 1000 ** 4}
#: lines of apt's that say nothing this module needs
_CHATTER = ("Reading package lists", "Building dependency tree", "Reading state information", "Calculating upgrade",
            "NOTE: This is only a simulation", "      apt-get needs root privileges", "      Keep also in mind",
            "      from the real execution", "      locking", "Starting", "Finished", "Trivial Only specified",
            "Get:", "Hit:", "Ign:", "Fetched", "The following", "Suggested packages", "Recommended packages",
            "Summary:", "Use 'apt autoremove'", "Use 'apt-get autoremove'", "Do you want to continue",
            "Abort.", "W: ", "N: ", "Need to get", "After this operation", "Not upgrading")


class AptAnswerError(Exception):
    """An answer that is not what the command prints: refused, with the line number (never the line)."""


@dataclass(frozen=True)
class PackageChange:
    name: str
    #: installed version, None for a newly installed package
    old: str | None
    #: candidate version, None for a package removed
    new: str | None
    origin: str = ""

    @property
    def kind(self) -> str:
        if self.new is None:
            return "remove"
        return "install" if self.old is None else "upgrade"

    def __str__(self) -> str:
        if self.new is None:
            return f"{self.name} {self.old or ''} (removed)".replace("  ", " ")
        if self.old is None:
            return f"{self.name} {self.new} (new)"
        return f"{self.name} {self.old} -> {self.new}"


@dataclass(frozen=True)
class Simulation:
    """What `apt-get -s upgrade` (or dist-upgrade) would do."""

    changes: tuple[PackageChange, ...]
    #: packages with a newer version that this kind of upgrade leaves alone
    kept_back: tuple[str, ...] = ()
    not_upgraded: int = 0

    @property
    def upgrades(self) -> tuple[PackageChange, ...]:
        return tuple(c for c in self.changes if c.kind == "upgrade")

    @property
    def installs(self) -> tuple[PackageChange, ...]:
        return tuple(c for c in self.changes if c.kind == "install")

    @property
    def removals(self) -> tuple[PackageChange, ...]:
        return tuple(c for c in self.changes if c.kind == "remove")

    def summary(self) -> str:
        parts = [f"{len(self.upgrades)} upgraded"]
        if self.installs:
            parts.append(f"{len(self.installs)} newly installed")
        if self.removals:
            parts.append(f"{len(self.removals)} removed")
        if self.kept_back:
            parts.append(f"{len(self.kept_back)} kept back")
        return ", ".join(parts)

    def listing(self) -> str:
        """One line a package, for the dry run's detail."""
        lines = [f"  {c}" for c in self.changes]
        if self.kept_back:
            lines.append(f"  kept back (a release upgrade or full-upgrade would change them): {', '.join(self.kept_back)}")
        return "\n".join(lines) + ("\n" if lines else "")


def _name(value: str, number: int) -> str:
    base = value.split(":", 1)[0] if re.fullmatch(r"[^:]+:[a-z0-9-]+", value) else value
    if PACKAGE.refusal(base):
        raise AptAnswerError(f"line {number}: not a Debian package name")
    return value


def _version(value: str | None, number: int) -> str | None:
    if value is not None and VERSION.refusal(value):
        raise AptAnswerError(f"line {number}: not a Debian package version")
    return value


def parse_simulation(text: str) -> Simulation:
    """apt-get -s's answer: every Inst/Remv line read, the summary line checked against them."""
    if len(text) > MAX_ANSWER:
        raise AptAnswerError(f"the answer is longer than {MAX_ANSWER} bytes")
    changes: dict[str, PackageChange] = {}
    kept: list[str] = []
    summary = None
    section = ""
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith("  ") and section:
            if section == "kept":
                kept += [_name(n, number) for n in line.split()]
            continue
        section = ""
        if line.startswith("Inst "):
            change = _inst(line, number)
            changes[change.name] = change
        elif line.startswith(("Remv ", "Purg ")):
            match = _REMV.fullmatch(line)
            if match is None:
                raise AptAnswerError(f"line {number}: a removal line that is not apt's")
            name = _name(match["name"], number)
            changes[name] = PackageChange(name, _version(match["old"], number), None)
        elif line.startswith("Conf "):
            if _CONF.fullmatch(line) is None:
                raise AptAnswerError(f"line {number}: a configure line that is not apt's")
        elif (match := _SUMMARY.fullmatch(line)) is not None:
            summary = match
        elif line.startswith("The following packages have been kept back"):
            section = "kept"
        elif line.startswith("The following"):
            section = "other"
        elif line.startswith("E: "):
            raise AptAnswerError(f"line {number}: apt reports an error")
        elif line and not line.startswith(_CHATTER):
            raise AptAnswerError(f"line {number}: not a line apt-get -s prints")
    if summary is None:
        raise AptAnswerError("no summary line ('N upgraded, N newly installed, ...'): the simulation did not finish")
    _check_counts(summary, changes)
    return Simulation(tuple(changes.values()), tuple(kept), int(summary["kept"]))


def _inst(line: str, number: int) -> PackageChange:
    match = _INST.fullmatch(line)
    if match is None:
        raise AptAnswerError(f"line {number}: an install line that is not apt's")
    origin = (match["origin"] or "").strip()
    if not ORIGIN.fullmatch(origin):
        raise AptAnswerError(f"line {number}: an origin apt would not print")
    return PackageChange(_name(match["name"], number), _version(match["old"], number), _version(match["new"], number), origin)


def _check_counts(summary: re.Match, changes: dict[str, PackageChange]) -> None:
    listed = list(changes.values())
    installing = sum(1 for c in listed if c.new is not None)
    removing = sum(1 for c in listed if c.new is None)
    said = int(summary["upgraded"]) + int(summary["new"]) + int(summary["downgraded"] or 0) + int(summary["reinstalled"] or 0)
    if said != installing or int(summary["remove"]) != removing:
        raise AptAnswerError(f"the summary counts {said} to install and {summary['remove']} to remove, "
                             f"the lines {installing} and {removing}")


# -- sizes: what a real (Trivial-Only) run says it needs ------------------------------------


def size_bytes(text: str) -> int:
    """'312 MB' -> 312000000 (apt counts in powers of 1000)."""
    match = _SIZE.fullmatch(text.strip())
    if match is None:
        raise AptAnswerError("a size apt would not print")
    return int(float(match["number"].replace(",", ".")) * _UNITS[match["unit"]])


@dataclass(frozen=True)
class SpaceNeeded:
    #: bytes still to download into /var/cache/apt/archives
    download: int
    #: bytes the installed system grows by (negative: freed)
    growth: int


def parse_space(text: str) -> SpaceNeeded:
    """'Need to get ... of archives.' and 'After this operation, ...' of apt-get with Trivial-Only."""
    download, growth = 0, 0
    found = False
    for line in text.splitlines():
        if (match := _NEED.fullmatch(line.strip())) is not None:
            download, found = size_bytes(match["get"]), True
        elif (match := _AFTER.fullmatch(line.strip())) is not None:
            size = size_bytes(match["size"])
            growth, found = (size if match["way"] == "used" else -size), True
    if not found and "0 upgraded, 0 newly installed" not in text:
        raise AptAnswerError("apt said neither what it needs to get nor what the operation uses")
    return SpaceNeeded(download, growth)


# -- other answers -----------------------------------------------------------------


def parse_holds(text: str) -> tuple[str, ...]:
    """`apt-mark showhold`: one package name a line."""
    return tuple(_name(line.strip(), number) for number, line in enumerate(text.splitlines(), 1) if line.strip())


def parse_df(text: str) -> tuple[int, str]:
    """(available KiB, mount point) from `df -P -k PATH`: its header, then one line for the file system holding PATH."""
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) != 2 or not lines[0].startswith("Filesystem") or "Available" not in lines[0]:
        raise AptAnswerError("df -P answered something other than a header and one file system")
    fields = lines[1].split()
    if len(fields) < 6 or not all(f.isdigit() for f in fields[-5:-2]) or not re.fullmatch(r"[0-9]{1,3}%", fields[-2]):
        raise AptAnswerError("df -P's line is not 'file system, blocks, used, available, capacity, mount point'")
    if not fields[-1].startswith("/"):
        raise AptAnswerError("df -P's mount point is not a path")
    return int(fields[-3]), fields[-1]


@dataclass(frozen=True)
class RebootRequest:
    required: bool
    #: the packages that asked for it (/run/reboot-required.pkgs), when the system says
    packages: tuple[str, ...] = ()

    def why(self) -> str:
        named = f" (for {', '.join(self.packages[:8])}{' ...' if len(self.packages) > 8 else ''})" if self.packages else ""
        return f"the system asks for a reboot: /run/reboot-required{named}"


REBOOT_MARK = "@reboot-required"
PKGS_MARK = "@packages"


def reboot_probe() -> str:
    """Whether /run/reboot-required exists, and the packages named in /run/reboot-required.pkgs (bounded)."""
    return (f"if [ -e /run/reboot-required ]; then echo {REBOOT_MARK}; fi; echo {PKGS_MARK}; "
            "head -c 16384 /run/reboot-required.pkgs 2>/dev/null || true")


def parse_reboot(text: str) -> RebootRequest:
    head, mark, rest = text.partition(f"{PKGS_MARK}\n")
    if not mark and text.strip() not in (PKGS_MARK, f"{REBOOT_MARK}\n{PKGS_MARK}"):
        raise AptAnswerError("the answer about /run/reboot-required was cut short")
    required = head.strip() == REBOOT_MARK
    if head.strip() not in ("", REBOOT_MARK):
        raise AptAnswerError("the answer about /run/reboot-required holds other words")
    names = []
    for number, line in enumerate(rest.splitlines(), 1):
        if line.strip():
            names.append(_name(line.strip(), number))
    return RebootRequest(required, tuple(dict.fromkeys(names)))


def shown_error(text: str) -> str:
    """apt's own error lines (E: ...), shown as one line of text."""
    errors = [line for line in text.splitlines() if line.startswith(("E: ", "W: "))]
    return one_line("; ".join(errors[-4:]) or text.strip()[-300:])
