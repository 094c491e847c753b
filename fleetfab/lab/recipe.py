"""The lab box recipe as data, and its hash: the box is rebuilt only when it changes.

Two hashes, because the slow part (debootstrap) depends on less than the
whole: the root filesystem on suite, packages and mirror; the image on that
plus every recipe file, the host's apt settings and the lab's public key.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

RECIPE_LABEL = "org.fleetfab.recipe"


def digest(parts: dict[str, bytes]) -> str:
    """sha256 over named parts, independent of their order, unambiguous in framing."""
    h = hashlib.sha256()
    for name in sorted(parts):
        data = parts[name]
        h.update(f"{name}\0{len(data)}\0".encode())
        h.update(data)
    return h.hexdigest()


def read_packages(text: str) -> list[str]:
    """Package names, one a line; `#` starts a comment."""
    return [w for line in text.splitlines() for w in line.split("#", 1)[0].split()]


def rootfs_hash(suite: str, packages: list[str], mirror: str) -> str:
    return digest({
        "suite": suite.encode(),
        "packages": "\n".join(sorted(packages)).encode(),
        "mirror": mirror.encode(),
    })


def tree_parts(folder: Path, prefix: str = "") -> dict[str, bytes]:
    """Every file under `folder`, keyed by its relative path."""
    return {
        prefix + str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*")) if p.is_file()
    }


def image_hash(rootfs: str, recipe: dict[str, bytes], context: dict[str, bytes]) -> str:
    """The final image's hash: root filesystem, recipe files, generated context."""
    parts = {"rootfs": rootfs.encode()}
    parts.update({f"recipe/{k}": v for k, v in recipe.items()})
    parts.update({f"context/{k}": v for k, v in context.items()})
    return digest(parts)
