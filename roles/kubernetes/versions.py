"""Kubernetes versions: what the inventory pins, and what follows from it.

kubeadm supports a skew of one minor version per upgrade, and the sandbox
(pause) image containerd must use is the one kubeadm of that minor expects:
both are facts of a version, kept here so they are decided in one place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PATTERN = r"1\.\d{2}\.\d+"

#: the pause image kubeadm of each minor expects (`kubeadm config images list`);
#: only the minors upstream still supports (December 2026: 1.35 until 2027-02-28,
#: 1.36 until 2027-06-28, 1.37 until 2027-10-28) are accepted
SANDBOX_TAGS = {35: "3.10.1", 36: "3.10.2", 37: "3.10.2"}
OLDEST, NEWEST = min(SANDBOX_TAGS), max(SANDBOX_TAGS)

#: the oldest containerd each minor runs on. 1.35 is the last minor SIG Node
#: supports on containerd 1.x, and containerd recommends 1.7.24 or later of
#: the 1.x series for every minor it still lists (1.6 ended in July 2025);
#: from 1.36 on, containerd 2.x.
CONTAINERD_FLOOR = {35: (1, 7, 24), 36: (2, 0, 4), 37: (2, 0, 4)}
#: where an operator finds a containerd at least this new, oldest first
CONTAINERD_SOURCES = (((1, 7, 24), "Debian 13's containerd 1.7.24"),
                      ((2, 0, 4), "a containerd 2.x package (Debian's unstable suite has 2.1.9), "
                                  "from a source the operator allows: no Debian stable release has one"))


@dataclass(frozen=True, order=True)
class Version:
    major: int
    minor: int
    patch: int

    @classmethod
    def parse(cls, text: str) -> "Version":
        """`1.31.4`, `v1.31.4` or a package version `1.31.4-1.1`; ValueError otherwise."""
        match = re.fullmatch(r"v?(\d+)\.(\d+)\.(\d+)(-[0-9A-Za-z.~+]+)?", text.strip())
        if not match:
            raise ValueError(f"{text!r} is not a Kubernetes version such as 1.35.9")
        return cls(int(match.group(1)), int(match.group(2)), int(match.group(3)))

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"

    @property
    def tag(self) -> str:
        """How kubeadm and images name it: v1.31.4."""
        return f"v{self}"

    @property
    def minor_line(self) -> str:
        """The minor series, as the per-minor package repositories name it: 1.31."""
        return f"{self.major}.{self.minor}"

    @property
    def package_glob(self) -> str:
        """Every Debian revision of exactly this version: 1.31.4-*."""
        return f"{self}-*"

    @property
    def sandbox_tag(self) -> str:
        return SANDBOX_TAGS[self.minor]


def supported(version: Version) -> bool:
    return version.major == 1 and OLDEST <= version.minor <= NEWEST


def upgrade_problem(current: Version, target: Version) -> str | None:
    """Why kubeadm cannot go from `current` to `target` in one upgrade, or None."""
    if target < current:
        return f"{target} is older than the cluster's {current}: kubeadm does not downgrade"
    if target == current:
        return f"the cluster already runs {current}"
    if target.minor > current.minor + 1:
        skipped = ", ".join(f"1.{m}" for m in range(current.minor + 1, target.minor))
        return f"{current} to {target} skips {skipped}: upgrade one minor version at a time"
    return None


def containerd_version(version_text: str) -> tuple[int, int, int]:
    """The version in what `containerd --version` prints, for example
    `containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+b1`."""
    for word in version_text.split():
        match = re.match(r"v?(\d+)\.(\d+)(?:\.(\d+))?", word)
        if match:
            return int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)
    raise ValueError(f"no containerd version in {version_text!r}")


def containerd_schema(version_text: str) -> int:
    """The config.toml schema of an installed containerd: 2 for 1.x, 3 for 2.x."""
    return 3 if containerd_version(version_text)[0] >= 2 else 2


def _dotted(version: tuple[int, ...]) -> str:
    return ".".join(map(str, version))


def containerd_problem(version: Version, version_text: str) -> str | None:
    """Why this host's containerd cannot run `version`'s kubelet (and where a newer one comes from), or None."""
    have = containerd_version(version_text)
    floor = CONTAINERD_FLOOR.get(version.minor)
    if floor is None or have >= floor:
        return None
    source = next(where for least, where in CONTAINERD_SOURCES if least >= floor)
    return (f"Kubernetes {version.minor_line} needs containerd {_dotted(floor)} or later and this host has "
            f"{_dotted(have)}: install {source}, or pin a Kubernetes minor this containerd runs "
            f"({runnable_minors(have) or 'none upstream still supports'})")


def runnable_minors(have: tuple[int, int, int]) -> str:
    return ", ".join(f"1.{m}" for m, floor in sorted(CONTAINERD_FLOOR.items()) if have >= floor)
