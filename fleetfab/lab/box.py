"""Build the lab box for Vagrant's docker provider, only when its recipe changed.

Three cached stages: the debootstrap tarball under .lab/box/ (slow, keyed by
suite, packages and mirror), its `docker import` (tagged by the same key),
and a Dockerfile layer on top (labelled with the hash of everything).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from fleetfab.lab import aptsources, recipe
from fleetfab.lab.proc import output, run

SUITE = "bookworm"


@dataclass(frozen=True)
class BoxPlan:
    """What the box is made of, resolved on this host before anything is built."""

    image: str
    suite: str
    mirror: str
    packages: tuple[str, ...]
    recipe_dir: Path
    cache: Path
    public_key: Path

    @property
    def rootfs_hash(self) -> str:
        return recipe.rootfs_hash(self.suite, list(self.packages), self.mirror)

    @property
    def tarball(self) -> Path:
        return self.cache / f"rootfs-{self.suite}-{self.rootfs_hash[:16]}.tar"

    @property
    def base_image(self) -> str:
        repo = self.image.rsplit(":", 1)[0] if ":" in self.image.split("/")[-1] else self.image
        return f"{repo}-rootfs:{self.rootfs_hash[:16]}"


def plan(image: str, recipe_dir: Path, cache: Path, public_key: Path, mirror: str | None = None,
         suite: str = SUITE) -> BoxPlan:
    """Resolve the mirror (from the host's apt sources unless given) and the package list."""
    packages = recipe.read_packages((recipe_dir / "packages").read_text())
    return BoxPlan(image, suite, mirror or aptsources.release_mirror(suite), tuple(packages),
                   recipe_dir, cache, public_key)


def context_files(p: BoxPlan) -> dict[str, bytes]:
    """Generated build-context files: the lab key and the host's apt settings."""
    files = {"authorized_keys": p.public_key.read_bytes()}
    for src, data in aptsources.suite_sources(p.suite).items():
        rel = src.name if src.parent.name == "apt" else f"sources.list.d/{src.name}"
        files[f"apt/{rel}"] = data
    for conf in aptsources.acquire_conf_files():
        files[f"apt/apt.conf.d/{conf.name}"] = conf.read_bytes()
    return files


def image_hash(p: BoxPlan) -> str:
    return recipe.image_hash(p.rootfs_hash, recipe.tree_parts(p.recipe_dir), context_files(p))


def image_label(image: str) -> str | None:
    """The recipe hash the image was built from, or None when there is no such image."""
    try:
        return output(["docker", "image", "inspect", "-f",
                       f'{{{{ index .Config.Labels "{recipe.RECIPE_LABEL}" }}}}', image]) or None
    except Exception:
        return None


def debootstrap(p: BoxPlan) -> None:
    """Debootstrap the root filesystem and keep it as a tarball; drop older ones."""
    p.cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=p.cache, prefix="rootfs-") as tmp:
        root = Path(tmp) / "root"
        run(["debootstrap", "--variant=minbase", f"--include={','.join(p.packages)}",
             p.suite, str(root), p.mirror], quiet=True)
        partial = p.tarball.with_suffix(".partial")
        run(["tar", "-C", str(root), "--numeric-owner", "-cf", str(partial), "."])
    os.replace(partial, p.tarball)
    for old in p.cache.glob(f"rootfs-{p.suite}-*.tar"):
        if old != p.tarball:
            old.unlink()


def import_rootfs(p: BoxPlan) -> None:
    run(["docker", "import", "-c", 'CMD ["/lib/systemd/systemd"]', str(p.tarball), p.base_image], quiet=True)


def build_image(p: BoxPlan, digest: str) -> None:
    """`docker build` the recipe's Dockerfile on the imported root filesystem."""
    with tempfile.TemporaryDirectory(prefix="fleetfab-box-") as ctx:
        shutil.copytree(p.recipe_dir, ctx, dirs_exist_ok=True)
        for rel, data in context_files(p).items():
            target = Path(ctx) / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        run(["docker", "build", "-q", "--build-arg", f"BASE={p.base_image}",
             "--label", f"{recipe.RECIPE_LABEL}={digest}", "-t", p.image, ctx],
            quiet=True, env={**os.environ, "DOCKER_BUILDKIT": "0"})
    # The image this one replaced is now untagged: drop it (only lab boxes carry the label).
    run(["docker", "image", "prune", "-f", "--filter", f"label={recipe.RECIPE_LABEL}"], quiet=True)


def ensure_box(p: BoxPlan, log=print) -> bool:
    """Build whatever stage is out of date; True when the image was (re)built."""
    digest = image_hash(p)
    if image_label(p.image) == digest:
        return False
    if not _image_exists(p.base_image):
        if not p.tarball.exists():
            log(f"box: debootstrap {p.suite} from {p.mirror} (cached as {p.tarball.name})")
            debootstrap(p)
        log(f"box: docker import {p.base_image}")
        import_rootfs(p)
    log(f"box: docker build {p.image}")
    build_image(p, digest)
    return True


def _image_exists(image: str) -> bool:
    try:
        run(["docker", "image", "inspect", image], quiet=True)
        return True
    except Exception:
        return False
