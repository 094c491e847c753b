"""Which Debian release a host runs, and the versions of the packages roles render for.

A fleet of some age runs Debian 12 and 13 side by side, and the same service
takes different configuration on each (Dovecot 2.3 and 2.4). So each host is
rendered for its own release, learnt from the same single read that takes
its lock: one probe, `RELEASE_PROBE`, rides in the first batch.

The answer is the host's, so it is untrusted: every field must fit a strict
shape, the answer is bounded, and a value that does not fit is refused with a
reason that never repeats it. A release fleetfab was not tested on is refused
by name, with the releases it supports, before anything on that host changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from fleetfab.shapes import matching
from fleetfab.shell import q

#: (ID, VERSION_ID) -> codename: the releases fleetfab is tested on
SUPPORTED = {("debian", "12"): "bookworm", ("debian", "13"): "trixie"}

#: the upstream version of a watched package each release ships: what a package
#: not installed yet will be once a role's prepare installs it
SHIPPED = {
    "bookworm": {"dovecot-core": "2.3.19", "postfix": "3.7.11", "bind9": "9.18", "haproxy": "2.6", "certbot": "2.1",
                 "containerd": "1.6.20", "openssh-server": "9.2", "systemd": "252"},
    "trixie": {"dovecot-core": "2.4.1", "postfix": "3.10.4", "bind9": "9.20", "haproxy": "3.0", "certbot": "4.0",
               "containerd": "1.7.24", "openssh-server": "10.0", "systemd": "257"},
}

#: packages whose installed version decides how a role renders its files
#: (a role may add its own: Role.versions)
WATCHED = ("dovecot-core", "postfix", "bind9", "haproxy", "certbot", "pebble", "containerd", "openssh-server",
           "opendkim", "wireguard-tools", "systemd", "libvirt-daemon", "qemu-system-x86", "openssl")

#: the most of the answer kept: os-release is a few hundred bytes, a version line less than a hundred
MAX_ANSWER = 64 * 1024
MAX_OS_RELEASE = 8192

#: dpkg states in which the package's files (of `Version`) are on the disk
PRESENT = {"installed", "half-configured", "unpacked", "triggers-awaited", "triggers-pending"}

OS_ID = matching("an os-release ID", r"[a-z0-9._-]{1,32}")
VERSION_ID = matching("an os-release VERSION_ID", r"[a-z0-9._~+-]{1,32}")
CODENAME = matching("a release codename", r"[a-z0-9._-]{1,32}")
PACKAGE = matching("a Debian package name", r"[a-z0-9][a-z0-9+.-]{0,99}")
VERSION = matching("a Debian package version", r"(?:[0-9]{1,9}:)?[A-Za-z0-9.+~-]{1,128}(?::[A-Za-z0-9.+~-]{1,64})?")
STATUS = matching("a dpkg status", r"[a-z-]{1,32}")

PACKAGES_MARK = "@packages"


class UnsupportedRelease(Exception):
    """The host runs a release fleetfab was not tested on, or its answer could not be read as one."""


def probe(packages: tuple[str, ...] = WATCHED) -> str:
    """os-release (bounded), a mark, then `name<TAB>version<TAB>status` for each package dpkg knows."""
    names = " ".join(q(p) for p in sorted(set(packages)))
    fmt = q("${Package}\\t${Version}\\t${db:Status-Status}\\n")
    return (f"head -c {MAX_OS_RELEASE} /etc/os-release\necho\necho {PACKAGES_MARK}\n"
            f"dpkg-query -W -f {fmt} {names} | head -c {MAX_ANSWER}")


@dataclass(frozen=True)
class Release:
    """A host's release and the versions of the watched packages installed on it."""

    id: str
    version_id: str
    codename: str
    #: package -> version, for the packages whose files are on the disk
    packages: dict[str, str] = field(default_factory=dict, compare=False)

    def __str__(self) -> str:
        return f"{self.id.capitalize()} {self.version_id} ({self.codename})"

    def package_version(self, name: str) -> str | None:
        """The installed version of `name`, or None when it is not installed (or not watched)."""
        return self.packages.get(name)

    def upstream(self, name: str) -> str | None:
        """The upstream part of `name`'s version ("2.4.1" of "1:2.4.1+dfsg1-6"), or None."""
        installed = self.package_version(name)
        return None if installed is None else upstream_of(installed)

    def at_least(self, name: str, upstream: str) -> bool | None:
        """Is `name` installed at upstream version `upstream` or newer? None when it is not installed.

        Debian's epoch and revision are left out: Dovecot is 2.4 whatever epoch
        its package carries.
        """
        installed = self.upstream(name)
        return None if installed is None else compare_versions(installed, upstream) >= 0

    def renders_at_least(self, name: str, upstream: str) -> bool:
        """Is `name` at `upstream` or newer, installed or (not installed yet) as this release ships it?

        A role renders a service's files before its package may be installed
        (a first bootstrap installs it in the same run): the release decides then.
        """
        installed = self.at_least(name, upstream)
        if installed is not None:
            return installed
        shipped = SHIPPED.get(self.codename, {}).get(name)
        if shipped is None:
            raise LookupError(f"{name}: not installed, and the version {self} ships is not known")
        return compare_versions(shipped, upstream) >= 0


def supported_names() -> str:
    return ", ".join(f"{i.capitalize()} {v} ({c})" for (i, v), c in sorted(SUPPORTED.items()))


def parse(output: str) -> Release:
    """The release in the probe's answer, or UnsupportedRelease saying why not."""
    os_text, mark, dpkg_text = output.partition(f"\n{PACKAGES_MARK}\n")
    if not mark:
        raise UnsupportedRelease("the host's answer about its release was cut short")
    fields = os_release(os_text)
    for key, shape in (("ID", OS_ID), ("VERSION_ID", VERSION_ID), ("VERSION_CODENAME", CODENAME)):
        if key not in fields:
            raise UnsupportedRelease(f"its /etc/os-release has no {key}: fleetfab supports {supported_names()}")
        if refusal := shape.refusal(fields[key]):
            raise UnsupportedRelease(f"its /etc/os-release {key} is refused ({refusal})")
    release = Release(fields["ID"], fields["VERSION_ID"], fields["VERSION_CODENAME"], installed(dpkg_text))
    return supported(release)


def supported(release: Release) -> Release:
    """The release itself when fleetfab supports it; refused by name otherwise."""
    if SUPPORTED.get((release.id, release.version_id)) != release.codename:
        raise UnsupportedRelease(f"{release} is not a release fleetfab supports (it supports {supported_names()}); "
                                 "nothing was changed on this host")
    return release


def os_release(text: str) -> dict[str, str]:
    """KEY=value lines as os-release(5) writes them (values optionally quoted); the last of a key wins."""
    fields = {}
    for line in text[:MAX_OS_RELEASE].splitlines():
        key, eq, value = line.strip().partition("=")
        if not eq or not re.fullmatch(r"[A-Z][A-Z0-9_]{0,63}", key):
            continue
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        fields[key] = value
    return fields


def installed(text: str) -> dict[str, str]:
    """package -> version from dpkg-query's lines; a line that does not fit is refused."""
    packages = {}
    for number, line in enumerate(text[:MAX_ANSWER].splitlines(), 1):
        if not line:
            continue
        parts = line.split("\t")
        if len(parts) != 3:
            raise UnsupportedRelease(f"the host's package list is refused: line {number} is not 'name version status'")
        name, version, status = parts
        for value, shape in ((name, PACKAGE), (status, STATUS)):
            if refusal := shape.refusal(value):
                raise UnsupportedRelease(f"the host's package list is refused: line {number}: {refusal}")
        if status not in PRESENT or not version:
            continue
        if refusal := VERSION.refusal(version):
            raise UnsupportedRelease(f"the host's package list is refused: line {number}: {refusal}")
        packages[name] = version
    return packages


# -- Debian version order (deb-version(7)) ------------------------------------------


def compare_versions(a: str, b: str) -> int:
    """-1, 0 or 1 as dpkg orders the versions `a` and `b`."""
    (ea, ua, ra), (eb, ub, rb) = _split(a), _split(b)
    if ea != eb:
        return -1 if ea < eb else 1
    return _compare_part(ua, ub) or _compare_part(ra, rb)


def upstream_of(version: str) -> str:
    """The upstream version, without epoch, Debian revision or repackaging suffix (+dfsg, ~ds)."""
    upstream = _split(version)[1]
    return re.split(r"[+~]", upstream, maxsplit=1)[0]


def _split(version: str) -> tuple[int, str, str]:
    epoch, colon, rest = version.partition(":")
    if not colon:
        epoch, rest = "0", version
    upstream, dash, revision = rest.rpartition("-")
    if not dash:
        upstream, revision = rest, "0"
    return int(epoch or 0), upstream, revision


def _order(char: str) -> int:
    """A non-digit's weight: '~' before the end, letters before other characters."""
    if char == "~":
        return -1
    if char.isalpha():
        return ord(char)
    return ord(char) + 256


def _compare_part(a: str, b: str) -> int:
    while a or b:
        # the non-digit prefixes, character by character, then the numbers after them
        pa, a = _take(a, digits=False)
        pb, b = _take(b, digits=False)
        for i in range(max(len(pa), len(pb))):
            ca = _order(pa[i]) if i < len(pa) else 0
            cb = _order(pb[i]) if i < len(pb) else 0
            if ca != cb:
                return -1 if ca < cb else 1
        da, a = _take(a, digits=True)
        db, b = _take(b, digits=True)
        ia, ib = int(da or 0), int(db or 0)
        if ia != ib:
            return -1 if ia < ib else 1
    return 0


def _take(text: str, digits: bool) -> tuple[str, str]:
    end = 0
    while end < len(text) and text[end].isdigit() == digits:
        end += 1
    return text[:end], text[end:]
