"""The resources the upgrade steps act with, each read, compared and fixed by the engine.

Every apt command runs with LC_ALL=C, DEBIAN_FRONTEND=noninteractive and
dpkg's --force-confdef/--force-confold: a file the inventory wrote (and
changed from the package's) is kept, and no question is ever asked. A probe
never exits or changes directory (it shares the batch's shell), so each runs
in a subshell of its own.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

from fleetfab.resources import Change, File, Resource
from fleetfab.shell import q
from fleetfab.upgrade import apt

#: the answer's marks
EXIT = "@exit"
UPDATE_FAILED = "@update-failed"
UPDATE_END = "@update-end"

#: a delayed reboot, so the command that asks for it returns and its connection closes first
REBOOT_COMMAND = "systemd-run --quiet --on-active=5 --unit=fleetfab-reboot systemctl reboot"

#: invoke-rc.d and deb-systemd-invoke ask this program before they start or restart a service:
#: during a release upgrade it refuses (101) every start and restart but SSH's (a new sshd must
#: take new connections: an old listener cannot run the new release's sshd for them), answers
#: status queries, and logs what it refused
POLICY = "/usr/sbin/policy-rc.d"
HELD_LOG = "/run/fleetfab-held-starts"
POLICY_TEXT = f"""#!/bin/sh
# fleetfab release-upgrade: services start only once their files are rendered for the new release.
# Removed by fleetfab when the upgrade is done (see `fab history`).
while [ "${{1#--}}" != "$1" ]; do shift; done
case "$1" in ssh|sshd|ssh.*|sshd.*|sshd-*|rescue-ssh.target) exit 0;; esac
case "$2" in status) exit 0;; esac
echo "$*" >> {HELD_LOG} 2>/dev/null
exit 101
"""
POLICY_MARK = "fleetfab release-upgrade"


def _answer(command: str, limit: int = apt.MAX_ANSWER) -> str:
    """`command`'s output and errors (bounded), then its exit status on a line of its own."""
    return f'out=$({command} 2>&1); code=$?; printf "%s\\n" "$out" | head -c {limit}; echo "{EXIT} $code"'


def split_exit(output: str) -> tuple[str, int | None]:
    """(the command's answer, its exit status) from `_answer`'s output; None when the status is missing."""
    body, _, last = output.rstrip("\n").rpartition("\n")
    if not last.startswith(EXIT + " "):
        body, last = output, ""
    status = last[len(EXIT) + 1:].strip()
    return body, int(status) if status.isdigit() else None


def _refresh(private: bool) -> str:
    """apt's package lists refreshed: the host's own, or (a dry run) a private copy that is thrown away."""
    if not private:
        return (f"if ! err=$({apt.APT_ENV} apt-get -q update 2>&1); then echo {UPDATE_FAILED}; "
                f"printf '%s\\n' \"$err\" | tail -n 5; echo {UPDATE_END}; fi; o=")
    return ("d=$(mktemp -d /var/tmp/fleetfab-lists.XXXXXX) && trap 'rm -rf \"$d\"' EXIT && "
            "mkdir -p \"$d/partial\" && { chown _apt:root \"$d/partial\" 2>/dev/null || true; }; "
            "o=\"-o Dir::State::Lists=$d -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= -o Debug::NoLocking=1\"; "
            f"if ! err=$({apt.APT_ENV} apt-get $o -q update 2>&1); then echo {UPDATE_FAILED}; "
            f"printf '%s\\n' \"$err\" | tail -n 5; echo {UPDATE_END}; fi")


def parse_refreshed(output: str) -> tuple[str | None, str]:
    """(why the refresh failed or None, the rest of the answer)."""
    if output.startswith(UPDATE_FAILED + "\n"):
        errors, _, rest = output[len(UPDATE_FAILED) + 1:].partition(f"{UPDATE_END}\n")
        return apt.shown_error(errors) or "apt-get update failed", rest
    return None, output


@dataclass(frozen=True)
class PackagesUpgraded(Resource):
    """Every package at the newest version its sources offer, within the host's release.

    `apt-get upgrade --with-new-pkgs`: new dependencies are installed, nothing
    is removed (removals are a release upgrade's or the operator's). A dry run
    (`private_lists`) reads fresh lists into a folder of its own and leaves
    the host's lists as they were.
    """

    private_lists: bool = False

    @property
    def key(self) -> str:
        return "packages"

    def probe(self) -> str:
        return f"( {_refresh(self.private_lists)}; {_answer(f'{apt.APT_ENV} apt-get $o -s upgrade --with-new-pkgs')} )"

    def simulation(self, output: str) -> apt.Simulation:
        failed, rest = parse_refreshed(output)
        if failed:
            raise apt.AptAnswerError(f"apt-get update failed: {failed}")
        body, code = split_exit(rest)
        if code != 0:
            raise apt.AptAnswerError(f"apt-get -s upgrade failed (exit {code}): {apt.shown_error(body)}")
        return apt.parse_simulation(body)

    def compare(self, output: str) -> Change | None:
        try:
            sim = self.simulation(output)
        except apt.AptAnswerError as exc:
            return self.change("refused", str(exc))
        if not sim.changes:
            return None
        return self.change("upgrade", f"{sim.summary()}: {_names(sim)}", sim.listing())

    def note(self, output: str) -> str | None:
        try:
            sim = self.simulation(output)
        except apt.AptAnswerError:
            return None
        if sim.kept_back:
            return f"kept back (they need packages removed: a release upgrade's or yours): {', '.join(sim.kept_back)}"
        return None if sim.changes else "every package is up to date"

    def fix(self, change: Change) -> str:
        if change.action == "refused":
            return f"echo {q(change.summary)} >&2\nexit 3\n"
        return f"set -e\n{apt.APT_ENV} apt-get -q -y {apt.KEEP_FILES} upgrade --with-new-pkgs\n"


def _names(sim: apt.Simulation, most: int = 12) -> str:
    names = [str(c) for c in sim.changes[:most]]
    more = len(sim.changes) - most
    return ", ".join(names) + (f" and {more} more" if more > 0 else "")


BOOT = "@boot"


@dataclass(frozen=True)
class Rebooted(Resource):
    """The host restarted when the system asks for it (/run/reboot-required), or always (`always`: why).

    The probe also reads the boot's identity (fleetfab.upgrade.reboot), kept in
    the change for the wait that follows."""

    always: str = ""

    @property
    def key(self) -> str:
        return "reboot"

    def probe(self) -> str:
        from fleetfab.upgrade.reboot import MARKER

        return f"{apt.reboot_probe()}; echo {BOOT}; {MARKER}"

    def read(self, output: str) -> tuple[apt.RebootRequest, str]:
        from fleetfab.upgrade.reboot import marker_of

        request, _, boot = output.partition(f"{BOOT}\n")
        marker = marker_of(boot)
        if marker is None:
            raise apt.AptAnswerError("the host's boot id and PID 1's start time could not be read")
        return apt.parse_reboot(request), marker

    def compare(self, output: str) -> Change | None:
        try:
            request, marker = self.read(output)
        except apt.AptAnswerError as exc:
            return self.change("refused", str(exc))
        if request.required:
            return self.change("reboot", request.why(), data=(marker,))
        if self.always:
            return self.change("reboot", self.always, data=(marker,))
        return None

    def note(self, output: str) -> str | None:
        try:
            request, _ = self.read(output)
        except apt.AptAnswerError:
            return None
        return None if request.required or self.always else "no reboot needed (no /run/reboot-required)"

    def fix(self, change: Change) -> str:
        if change.action == "refused":
            return f"echo {q(change.summary)} >&2\nexit 3\n"
        return f"set -e\n{REBOOT_COMMAND}\n"


def starts_held() -> File:
    """policy-rc.d in place: package scripts start or restart no service (but SSH) until it is gone."""
    return File(POLICY, POLICY_TEXT, mode="0755")


UNIT = re.compile(r"[A-Za-z0-9][A-Za-z0-9@._:-]{0,120}")
#: what a held request becomes once the files are right: a start is done, anything that reloads or
#: restarts restarts the unit if it runs (its old process still has the old release's files and libraries)
RELEASED = {"start": "start", "restart": "try-restart", "try-restart": "try-restart", "reload": "try-restart",
            "force-reload": "try-restart", "reload-or-restart": "try-restart"}


def held_requests(log: str) -> list[tuple[str, str]]:
    """(systemctl verb, unit) for each start or restart the package scripts asked for while starts were held,
    in order, once each; stops and status queries need nothing; a line of another shape is left out."""
    wanted: dict[str, str] = {}
    for line in log.splitlines():
        words = line.split()
        if len(words) < 2 or not UNIT.fullmatch(words[0]) or words[1] not in RELEASED:
            continue
        unit = words[0] if "." in words[0] else f"{words[0]}.service"
        verb = RELEASED[words[1]]
        if wanted.get(unit) != "start":
            wanted[unit] = verb
    return [(verb, unit) for unit, verb in wanted.items()]


@dataclass(frozen=True)
class StartsReleased(Resource):
    """policy-rc.d gone, and every start or restart it held done now, on the new release's files."""

    @property
    def key(self) -> str:
        return "service starts released"

    def probe(self) -> str:
        return (f"if grep -qs {q(POLICY_MARK)} {POLICY} || [ -e {HELD_LOG} ]; then echo @held; fi; "
                f"head -c 65536 {HELD_LOG} 2>/dev/null || true")

    def compare(self, output: str) -> Change | None:
        held = output.startswith("@held\n")
        log = output[len("@held\n"):] if held else output
        if not held and not log.strip():
            return None
        requests = held_requests(log)
        done = ", ".join(f"{verb} {unit}" for verb, unit in requests) or "nothing was held"
        return self.change("release", f"remove {POLICY}; then {done}", data=tuple(requests))

    def fix(self, change: Change) -> str:
        """A restart that fails now is left to the converge that follows: the old release's instance may
        still hold its service (Debian 12's postfix@- keeps Debian 13's postfix.service from starting until
        the mail role stops it). The converge puts each role's services right, the reboot starts everything
        anew, and the checks after judge."""
        lines = [f"rm -f {POLICY}"]
        lines += [f"systemctl {verb} {q(unit)} >/dev/null 2>&1 || true" for verb, unit in change.data]
        lines.append(f"rm -f {HELD_LOG}")
        return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class ReleaseInstalled(Resource):
    """The host's packages at the versions of the release its sources now name (apt's full upgrade).

    Debian's order: the packages that need nothing new first (`upgrade
    --without-new-pkgs`), then the rest (`dist-upgrade`). With `download_only`,
    the packages are fetched and nothing is installed: a failed download stops
    the upgrade before it changes the host.
    """

    release: str
    download_only: bool = False

    @property
    def key(self) -> str:
        return f"release {self.release} {'downloaded' if self.download_only else 'installed'}"

    def probe(self) -> str:
        refresh = _refresh(False) if self.download_only else "o="
        return f"( {refresh}; {_answer(f'{apt.APT_ENV} apt-get -s dist-upgrade')} )"

    def compare(self, output: str) -> Change | None:
        failed, rest = parse_refreshed(output)
        if failed:
            return self.change("refused", f"apt-get update failed: {failed}")
        body, code = split_exit(rest)
        try:
            if code != 0:
                raise apt.AptAnswerError(f"apt-get -s dist-upgrade failed (exit {code}): {apt.shown_error(body)}")
            sim = apt.parse_simulation(body)
        except apt.AptAnswerError as exc:
            return self.change("refused", str(exc))
        if not sim.changes:
            return None
        action = "download" if self.download_only else "install"
        return self.change(action, f"{self.release}: {sim.summary()}", sim.listing())

    def fix(self, change: Change) -> str:
        if change.action == "refused":
            return f"echo {q(change.summary)} >&2\nexit 3\n"
        get = f"{apt.APT_ENV} apt-get -q -y {apt.KEEP_FILES}"
        if self.download_only:
            return f"set -e\n{get} -d dist-upgrade\n"
        return f"set -e\n: > {HELD_LOG}\n{get} upgrade --without-new-pkgs\n{get} dist-upgrade\n"


def encoded(text: str) -> str:
    return base64.b64encode(text.encode()).decode()
