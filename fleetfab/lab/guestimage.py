"""Build the lab guest's base image offline, only when its recipe changed.

A VM guest in the lab boots this image under QEMU by direct kernel boot
(`root=/dev/vda console=ttyS0`): one ext4 filesystem on the whole disk (no
partition table, no bootloader) as a compressed qcow2, with the kernel and
initrd beside it. cloud-init takes the guest's name, keys and address from a
NoCloud seed and prints the host keys on the serial console.

Two cached stages under ~/.cache/fleetfab/lab-guest/ (outside the checkout,
so clean clones on the CI machine reuse them): the debootstrap tarball
(slow, keyed by suite, packages and mirror) and the finished image in a
folder named by the hash of the whole recipe. `.lab/guest/` holds links to
the current build at stable paths. The disk is made without loop or nbd
devices (`mkfs.ext4 -d`), which the lab host may not have.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from fleetfab.lab import aptsources, recipe
from fleetfab.lab.paths import LabPaths
from fleetfab.lab.proc import LabError, run

SUITE = "bookworm"
#: the filesystem's size in the image; sparse, and grown at first boot to the
#: overlay's declared size by cloud-init's resize_rootfs
ROOT_SIZE = "2G"
ROOT_LABEL = "fleetfab-root"
#: how the tree becomes a disk; part of the hash, so a change here rebuilds
LAYOUT = f"ext4 whole disk {ROOT_SIZE} label {ROOT_LABEL}, qcow2 compressed, kernel and initrd beside"
DISK_NAME = f"{SUITE}.qcow2"


def disk_name(suite: str) -> str:
    """The disk of an image for Debian `suite` (bookworm.qcow2, trixie.qcow2)."""
    return f"{suite}.qcow2"
KERNEL_NAME = "vmlinuz"
INITRD_NAME = "initrd.img"
#: builds kept in the cache (other checkouts may be on other recipes)
KEEP_BUILDS = 3

Runner = Callable[..., object]


def _quiet_run(cmd: list[str], **kw):
    return run(cmd, quiet=True, **kw)


def cache_root() -> Path:
    """~/.cache/fleetfab/lab-guest (or under $XDG_CACHE_HOME)."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "fleetfab" / "lab-guest"


@dataclass(frozen=True)
class GuestImage:
    """A built base image: what a hypervisor needs to boot a guest from it."""

    disk: Path
    kernel: Path
    initrd: Path
    recipe_hash: str


@dataclass(frozen=True)
class GuestPlan:
    """What the image is made of, resolved on this host before anything is built."""

    suite: str
    mirror: str
    packages: tuple[str, ...]
    #: every file of the recipe folder (relative path -> content), read once at plan time
    recipe_files: dict[str, bytes]
    cache: Path
    #: the guest's /etc/apt files (path under /etc/apt -> content): the lab host's own
    apt_files: dict[str, bytes]

    @property
    def rootfs_hash(self) -> str:
        return recipe.rootfs_hash(self.suite, list(self.packages), self.mirror)

    @property
    def recipe_hash(self) -> str:
        """Everything the image depends on: packages, mirror, recipe files, apt files, layout."""
        context = {f"apt/{k}": v for k, v in self.apt_files.items()}
        context["layout"] = LAYOUT.encode()
        return recipe.image_hash(self.rootfs_hash, self.recipe_files, context)

    @property
    def tarball(self) -> Path:
        return self.cache / f"rootfs-{self.suite}-{self.rootfs_hash[:16]}.tar"

    @property
    def build_dir(self) -> Path:
        return self.cache / self.recipe_hash

    @property
    def disk_name(self) -> str:
        return disk_name(self.suite)

    def image(self, folder: Path | None = None) -> GuestImage:
        folder = folder or self.build_dir
        return GuestImage(folder / self.disk_name, folder / KERNEL_NAME, folder / INITRD_NAME, self.recipe_hash)


def apt_files(suite: str, etc_apt: Path = Path("/etc/apt")) -> dict[str, bytes]:
    """The lab host's sources for `suite` and its apt reach settings, as the lab box gets them.

    So apt inside a guest uses the same mirror the same way, if the guest can
    reach it at all.
    """
    files = {}
    for src, data in aptsources.suite_sources(suite, etc_apt).items():
        rel = src.name if src.parent == etc_apt else f"sources.list.d/{src.name}"
        files[rel] = data
    for conf in aptsources.acquire_conf_files(etc_apt):
        files[f"apt.conf.d/{conf.name}"] = conf.read_bytes()
    return files


def plan(recipe_dir: Path, cache: Path | None = None, mirror: str | None = None,
         suite: str = SUITE, etc_apt: Path = Path("/etc/apt")) -> GuestPlan:
    """Resolve the mirror (from the host's apt sources unless given), packages and apt files."""
    files = recipe.tree_parts(recipe_dir)
    packages = recipe.read_packages(files["packages"].decode())
    return GuestPlan(suite, mirror or aptsources.release_mirror(suite, etc_apt), tuple(packages),
                     files, cache or cache_root(), apt_files(suite, etc_apt))


# -- the build, one step a function; `runner` runs the commands ----------------------


def debootstrap(p: GuestPlan, runner: Runner = _quiet_run) -> None:
    """Debootstrap the packages (minbase) from the mirror, kept as a tarball."""
    p.cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=p.cache, prefix="rootfs-") as tmp:
        root = Path(tmp) / "root"
        runner(["debootstrap", "--variant=minbase", f"--include={','.join(p.packages)}",
                p.suite, str(root), p.mirror])
        partial = p.tarball.with_suffix(".partial")
        runner(["tar", "-C", str(root), "--numeric-owner", "-cf", str(partial), "."])
        os.replace(partial, p.tarball)


def unpack(p: GuestPlan, root: Path, runner: Runner = _quiet_run) -> None:
    root.mkdir()
    runner(["tar", "-C", str(root), "--numeric-owner", "-xf", str(p.tarball)])


def customize(p: GuestPlan, root: Path, runner: Runner = _quiet_run) -> None:
    """The recipe's rootfs/ files, its customize.sh run in the tree, then the host's apt files.

    Written from the plan's copy of the recipe, so the image is what was
    hashed. rootfs/ holds configuration files: root's, mode 0644. The apt
    files come last: customize.sh removes debootstrap's sources.list, which
    the host's own may replace.
    """
    for rel, data in p.recipe_files.items():
        if rel.startswith("rootfs/"):
            _write(root / rel.removeprefix("rootfs/"), data)
    script = root / "tmp" / "fleetfab-customize.sh"
    _write(script, p.recipe_files["customize.sh"])
    runner(["chroot", str(root), "/bin/sh", "/tmp/fleetfab-customize.sh"])
    script.unlink()
    for rel, data in p.apt_files.items():
        _write(root / "etc" / "apt" / rel, data)


def _write(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    target.chmod(0o644)


def boot_file(root: Path, prefix: str) -> Path:
    """The one /boot/<prefix>-<version> the kernel package installed."""
    found = sorted((root / "boot").glob(f"{prefix}-*"))
    if len(found) != 1:
        raise LabError(f"expected one /boot/{prefix}-* in the guest tree, found {len(found)}")
    return found[0]


def extract_boot(root: Path, out: Path) -> None:
    """Kernel and initrd beside the disk: guests boot them directly, not from the disk."""
    shutil.copyfile(boot_file(root, "vmlinuz"), out / KERNEL_NAME)
    shutil.copyfile(boot_file(root, "initrd.img"), out / INITRD_NAME)


def make_disk(root: Path, out: Path, runner: Runner = _quiet_run, name: str = DISK_NAME) -> None:
    """ext4 filled from the tree by mkfs itself (no loop device), then compressed qcow2."""
    raw = out / "root.ext4"
    runner(["mkfs.ext4", "-q", "-F", "-L", ROOT_LABEL, "-d", str(root), str(raw), ROOT_SIZE])
    runner(["qemu-img", "convert", "-c", "-f", "raw", "-O", "qcow2", str(raw), str(out / name)])
    raw.unlink()


def build(p: GuestPlan, runner: Runner = _quiet_run) -> None:
    """Tarball to finished image in a scratch folder, renamed into place when complete."""
    p.cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=p.cache, prefix="build-") as tmp:
        root, out = Path(tmp) / "root", Path(tmp) / "out"
        out.mkdir()
        unpack(p, root, runner)
        customize(p, root, runner)
        extract_boot(root, out)
        make_disk(root, out, runner, p.disk_name)
        _move_into_place(out, p.build_dir, p.disk_name)


def _move_into_place(out: Path, target: Path, disk: str = DISK_NAME) -> None:
    try:
        os.rename(out, target)
    except OSError:
        # Another build of the same recipe finished first: keep that one.
        if not complete(target, disk):
            raise


def complete(folder: Path, disk: str = DISK_NAME) -> bool:
    return all((folder / name).is_file() for name in (disk, KERNEL_NAME, INITRD_NAME))


def publish(image: GuestImage, folder: Path) -> GuestImage:
    """Stable paths in `folder` (hard links to the cached build, copies across filesystems)."""
    folder.mkdir(parents=True, exist_ok=True)
    published = GuestImage(folder / image.disk.name, folder / KERNEL_NAME, folder / INITRD_NAME, image.recipe_hash)
    for src, dst in ((image.disk, published.disk), (image.kernel, published.kernel), (image.initrd, published.initrd)):
        _link_or_copy(src, dst)
    (folder / "recipe.sha256").write_text(image.recipe_hash + "\n")
    return published


def _link_or_copy(src: Path, dst: Path) -> None:
    partial = dst.with_name(dst.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        os.link(src, partial)
    except OSError:
        shutil.copyfile(src, partial)
    os.replace(partial, dst)


def prune(p: GuestPlan, keep: int = KEEP_BUILDS) -> list[Path]:
    """Drop all but the `keep` newest builds and every tarball but the current one."""
    builds = sorted((d for d in p.cache.iterdir() if d.is_dir() and len(d.name) == 64),
                    key=lambda d: d.stat().st_mtime, reverse=True)
    dropped = [d for d in builds[keep:] if d != p.build_dir]
    dropped += [t for t in p.cache.glob(f"rootfs-{p.suite}-*.tar") if t != p.tarball]
    for path in dropped:
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    return dropped


def guest_folder(paths: LabPaths, suite: str = SUITE) -> Path:
    """Where guests' images are published: .lab/guest/ for bookworm, .lab/guest/<suite>/ for another release."""
    return paths.work / "guest" if suite == SUITE else paths.work / "guest" / suite


def recipe_dir(paths: LabPaths) -> Path:
    return paths.vagrant_dir / "guest"


def declares_guest(inventory) -> bool:
    """True when some host of the inventory is a VM guest (has `vm:`)."""
    return any(h.vm for h in inventory.hosts.values())


def ensure_guest_image(paths: LabPaths, mirror: str | None = None, log=print, *,
                       cache: Path | None = None, runner: Runner = _quiet_run,
                       etc_apt: Path = Path("/etc/apt"), suite: str = SUITE) -> GuestImage:
    """The current recipe's image for Debian `suite` at guest_folder(), building whichever stage is out of date."""
    p = plan(recipe_dir(paths), cache, mirror, suite=suite, etc_apt=etc_apt)
    started = time.monotonic()
    if not complete(p.build_dir, p.disk_name):
        _build_stages(p, runner, log)
        prune(p)
    else:
        os.utime(p.build_dir)  # recently used: pruned last
    image = publish(p.image(), guest_folder(paths, suite))
    log(f"guest: ready {image.disk} (recipe {p.recipe_hash[:12]}, {time.monotonic() - started:.1f} s)")
    return image


def _build_stages(p: GuestPlan, runner: Runner, log) -> None:
    if not p.tarball.exists():
        log(f"guest: debootstrap {p.suite} from {p.mirror} (cached as {p.tarball.name})")
        _timed(log, "debootstrap", debootstrap, p, runner)
    log(f"guest: building the image for recipe {p.recipe_hash[:12]} in {p.cache}")
    _timed(log, "image", build, p, runner)


def _timed(log, what: str, step, *args) -> None:
    started = time.monotonic()
    step(*args)
    log(f"guest: {what} done ({time.monotonic() - started:.1f} s)")


# -- for hypervisors and the boot check -----------------------------------------------

#: the kernel command line a guest of this image boots with
KERNEL_CMDLINE = "root=/dev/vda console=ttyS0"


def overlay_command(base: Path, overlay: Path, size: str) -> list[str]:
    """A guest's disk: a qcow2 overlay on the base image at the declared size.

    The backing format is always given (`-F`): qemu-img refuses a backing
    file without one.
    """
    return ["qemu-img", "create", "-f", "qcow2", "-F", "qcow2", "-b", str(base), str(overlay), size]


def seed_command(folder: Path, iso: Path) -> list[str]:
    """A NoCloud seed ISO from user-data, meta-data and network-config in `folder`."""
    return ["genisoimage", "-quiet", "-output", str(iso), "-volid", "cidata", "-joliet", "-rock",
            *(str(folder / n) for n in ("user-data", "meta-data", "network-config"))]
