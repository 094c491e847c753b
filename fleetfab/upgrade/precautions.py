"""The precautions Debian's release notes ask for before a release upgrade, as read-only checks.

Each is a `fleetfab.health.HealthCheck`: a failed one stops the release
upgrade before anything on the host changes, saying which and why.

- no package is held (a held package stays at the old release's version and
  blocks what depends on it);
- dpkg has nothing half-installed or half-configured (`dpkg --audit`);
- no policy-rc.d but fleetfab's own is in place (the upgrade needs its own);
- every apt source can be switched (fleetfab.upgrade.sources);
- the new release, previewed in a private copy of apt's state (the switched
  sources, lists fetched into a folder of its own, no lock taken, nothing
  of the host's changed), can be installed, and the file systems have room
  for its download and its growth.
"""

from __future__ import annotations

from dataclasses import dataclass

from fleetfab.health import HealthCheck, quoted
from fleetfab.resources import Change
from fleetfab.upgrade import apt
from fleetfab.upgrade.sources import SourcesError, SourcesSwitched
from fleetfab.upgrade.steps import EXIT, POLICY, POLICY_MARK, encoded, parse_refreshed, split_exit

#: room kept free beyond what apt says it needs (MiB)
MARGIN_MB = 200
#: the paths whose file systems receive the download and the new files
SPACE_PATHS = ("/var/cache/apt/archives", "/usr", "/")


@dataclass(frozen=True)
class NoHeldPackages(HealthCheck):
    what: str = "no package held (apt-mark showhold)"

    def probe(self) -> str:
        return "apt-mark showhold 2>&1 | head -c 65536"

    def problem(self, output: str) -> str | None:
        try:
            held = apt.parse_holds(output)
        except apt.AptAnswerError as exc:
            return f"apt-mark showhold: {exc}"
        if held:
            return (f"held packages would stay at the old release's versions and block the upgrade: {', '.join(held)} "
                    "(apt-mark unhold them first, or upgrade this host by hand)")
        return None


@dataclass(frozen=True)
class DpkgAudited(HealthCheck):
    what: str = "dpkg has nothing half-installed (dpkg --audit)"

    def probe(self) -> str:
        return "LC_ALL=C dpkg --audit 2>&1 | head -c 8192"

    def problem(self, output: str) -> str | None:
        if output.strip():
            return f"dpkg --audit reports packages left half-way: {quoted(output)} (finish them with dpkg --configure -a first)"
        return None


@dataclass(frozen=True)
class NoForeignPolicy(HealthCheck):
    what: str = f"no {POLICY} but fleetfab's"

    def probe(self) -> str:
        return f"if [ -e {POLICY} ]; then head -c 4096 {POLICY}; else echo @absent; fi"

    def problem(self, output: str) -> str | None:
        if output.strip() == "@absent" or POLICY_MARK in output:
            return None
        return f"{POLICY} is someone else's: the upgrade holds service starts with its own (move it aside first)"


@dataclass(frozen=True)
class SourcesSwitchable(HealthCheck):
    old: str = ""
    new: str = ""

    def probe(self) -> str:
        return SourcesSwitched(self.old, self.new).probe()

    def problem(self, output: str) -> str | None:
        try:
            rewrites = SourcesSwitched(self.old, self.new).rewrites(output)
        except SourcesError as exc:
            return str(exc)
        if not rewrites:
            return f"no apt source names {self.old}'s Debian suites: nothing to switch to {self.new}"
        return None


@dataclass(frozen=True)
class ReleasePreview(HealthCheck):
    """The new release in a private copy of apt's state: what it would change, and the room it needs."""

    new: str = ""
    #: (path, text) of every source file as it will be: the switched ones and the others unchanged
    files: tuple[tuple[str, str], ...] = ()

    def probe(self) -> str:
        writes = " && ".join(f"printf '%s' {encoded(text)} | base64 -d > \"$d/{_private_name(path)}\""
                             for path, text in self.files)
        options = ("-o Dir::Etc::SourceList=$d/sources.list -o Dir::Etc::SourceParts=$d/sources.list.d "
                   "-o Dir::State::Lists=$d/lists -o Dir::Cache::Archives=$d/archives "
                   "-o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= -o Debug::NoLocking=1")
        space = " ".join(SPACE_PATHS)
        return (
            "( d=$(mktemp -d /var/tmp/fleetfab-preview.XXXXXX) && trap 'rm -rf \"$d\"' EXIT && "
            "mkdir -p \"$d/lists/partial\" \"$d/archives/partial\" \"$d/sources.list.d\" && : > \"$d/sources.list\" && "
            f"{writes or ':'} && {{ chown _apt:root \"$d/lists/partial\" \"$d/archives/partial\" 2>/dev/null || true; }}; "
            f"o=\"{options}\"; "
            f"if ! err=$({apt.APT_ENV} apt-get $o -q update 2>&1); then echo @update-failed; "
            "printf '%s\\n' \"$err\" | tail -n 5; echo @update-end; fi; "
            "echo @simulation; "
            f"out=$({apt.APT_ENV} apt-get $o -s dist-upgrade 2>&1); code=$?; printf '%s\\n' \"$out\" | head -c {apt.MAX_ANSWER}; "
            f"echo \"{EXIT} $code\"; echo @space; "
            f"{apt.APT_ENV} apt-get $o -o APT::Get::Trivial-Only=true dist-upgrade 2>&1 | grep -E '^(Need to get|After this operation)'; "
            f"for p in {space}; do echo \"@df $p\"; LC_ALL=C df -P -k \"$p\" 2>&1 | head -n 3; done )"
        )

    def read(self, output: str) -> tuple[apt.Simulation, apt.SpaceNeeded, dict[str, tuple[int, str]]]:
        failed, rest = parse_refreshed(output)
        if failed:
            raise apt.AptAnswerError(f"the {self.new} package lists could not be fetched: {failed}")
        _, _, rest = rest.partition("@simulation\n")
        simulated, _, rest = rest.partition("@space\n")
        body, code = split_exit(simulated)
        if code != 0:
            raise apt.AptAnswerError(f"apt cannot plan the upgrade to {self.new} (exit {code}): {apt.shown_error(body)}")
        sim = apt.parse_simulation(body)
        space_text, *df_parts = rest.split("@df ")
        space = apt.parse_space(space_text)
        free = {}
        for part in df_parts:
            path, _, text = part.partition("\n")
            free[path.strip()] = apt.parse_df(text)
        if set(free) != set(SPACE_PATHS):
            raise apt.AptAnswerError("df did not answer for every path the upgrade writes to")
        return sim, space, free

    def shortfalls(self, space: apt.SpaceNeeded, free: dict[str, tuple[int, str]]) -> list[str]:
        """Each file system whose free room is less than what lands on it, plus the margin."""
        need: dict[str, int] = {}
        need[free["/var/cache/apt/archives"][1]] = need.get(free["/var/cache/apt/archives"][1], 0) + space.download
        need[free["/usr"][1]] = need.get(free["/usr"][1], 0) + max(space.growth, 0)
        short = []
        for mount, wanted in need.items():
            available = next(kib for kib, m in free.values() if m == mount) * 1024
            if available < wanted + MARGIN_MB * 1_000_000:
                short.append(f"{mount} has {available // 1_000_000} MB free, the upgrade needs "
                             f"{wanted // 1_000_000} MB there and fleetfab keeps {MARGIN_MB} MB spare")
        return short

    def problem(self, output: str) -> str | None:
        try:
            _, space, free = self.read(output)
        except apt.AptAnswerError as exc:
            return str(exc)
        short = self.shortfalls(space, free)
        return "not enough disk space: " + "; ".join(short) if short else None

    def compare(self, output: str) -> Change | None:
        found = self.problem(output)
        if found is not None:
            return super().compare(output)
        sim, space, _ = self.read(output)
        return self.change("preview", f"{self.new}: {sim.summary()}; download {space.download // 1_000_000} MB, "
                                      f"installed size {'+' if space.growth >= 0 else ''}{space.growth // 1_000_000} MB",
                           sim.listing())


def _private_name(path: str) -> str:
    """Where a source file goes in the private copy: sources.list, or sources.list.d/<its name>."""
    return "sources.list" if path == "/etc/apt/sources.list" else "sources.list.d/" + path.rsplit("/", 1)[1]


def preview_files(data) -> tuple[tuple[str, str], ...]:
    """Every source file as the upgrade will leave it, from SourcesSwitched's change."""
    return tuple((path, text) for path, text, _ in data)
