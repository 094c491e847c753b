"""Kubernetes versions: what the inventory pins, and what follows from it.

kubeadm supports a skew of one minor version per upgrade, and the sandbox
(pause) image containerd must use is the one kubeadm of that minor expects:
both are facts of a version, kept here so they are decided in one place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PATTERN = r"1\.\d{2}\.\d+"

#: the pause image kubeadm of each minor expects (`kubeadm config images list`)
SANDBOX_TAGS = {31: "3.10", 32: "3.10", 33: "3.10", 34: "3.10.1", 35: "3.10.1"}
#: kubeadm.k8s.io/v1beta4 arrived in 1.31; older minors are not supported
OLDEST, NEWEST = min(SANDBOX_TAGS), max(SANDBOX_TAGS)


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
            raise ValueError(f"{text!r} is not a Kubernetes version such as 1.31.4")
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


def containerd_schema(version_text: str) -> int:
    """The config.toml schema of an installed containerd: 2 for 1.x, 3 for 2.x.

    `version_text` is what `containerd --version` prints, for example
    `containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+b1`.
    """
    for word in version_text.split():
        match = re.match(r"v?(\d+)\.(\d+)", word)
        if match:
            return 3 if int(match.group(1)) >= 2 else 2
    raise ValueError(f"no containerd version in {version_text!r}")
