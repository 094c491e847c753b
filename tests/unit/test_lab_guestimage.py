"""The lab guest's base image: rebuilt exactly when its recipe changes, else reused from the cache.

No real build here: a canned runner stands in for debootstrap, tar, chroot,
mkfs.ext4 and qemu-img, and makes the files each of them would make.
"""

import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from fleetfab.inventory.model import Host
from fleetfab.lab import guestimage
from fleetfab.lab.paths import LabPaths
from fleetfab.lab.proc import LabError

MIRROR = "http://mirror.example.net/debian"
SOURCES = f"Types: deb\nURIs: {MIRROR}\nSuites: bookworm bookworm-updates\nComponents: main\n"


class CannedRunner:
    """Records every command and makes the files the real tool would have made."""

    def __init__(self):
        self.commands: list[list[str]] = []

    def __call__(self, cmd, **kw):
        self.commands.append(cmd)
        tool = cmd[0]
        if tool == "debootstrap" or (tool == "tar" and "-xf" in cmd):
            root = Path(cmd[-2] if tool == "debootstrap" else cmd[2])
            (root / "boot").mkdir(parents=True, exist_ok=True)
            (root / "tmp").mkdir(exist_ok=True)
            (root / "boot" / "vmlinuz-6.1.0-test-cloud-amd64").write_bytes(b"kernel")
            (root / "boot" / "initrd.img-6.1.0-test-cloud-amd64").write_bytes(b"initrd")
        elif tool == "tar" and "-cf" in cmd:
            Path(cmd[cmd.index("-cf") + 1]).write_bytes(b"tarball")
        elif tool == "mkfs.ext4":
            Path(cmd[-2]).write_bytes(b"ext4")
        elif tool == "qemu-img":
            Path(cmd[-1]).write_bytes(b"qcow2")

    def tools(self) -> list[str]:
        return [c[0] for c in self.commands]

    def command(self, tool: str) -> list[str]:
        [found] = [c for c in self.commands if c[0] == tool]
        return found


@pytest.fixture
def repo(tmp_path) -> LabPaths:
    recipe = tmp_path / "repo" / "vagrant" / "guest"
    (recipe / "rootfs" / "etc" / "cloud" / "cloud.cfg.d").mkdir(parents=True)
    (recipe / "packages").write_text("# guest\nsystemd\nlinux-image-cloud-amd64\ncloud-init\n")
    (recipe / "customize.sh").write_text("#!/bin/sh\nrm -f /etc/ssh/ssh_host_*\n")
    (recipe / "rootfs" / "etc" / "cloud" / "cloud.cfg.d" / "90-fleetfab.cfg").write_text("locale: \"false\"\n")
    return LabPaths(tmp_path / "repo")


@pytest.fixture
def etc_apt(tmp_path) -> Path:
    etc = tmp_path / "etc-apt"
    (etc / "sources.list.d").mkdir(parents=True)
    (etc / "apt.conf.d").mkdir()
    (etc / "sources.list.d" / "debian.sources").write_text(SOURCES)
    (etc / "apt.conf.d" / "99proxy").write_text('Acquire::http::Proxy "http://198.18.0.1:3142";\n')
    (etc / "apt.conf.d" / "20other").write_text('APT::Install-Recommends "false";\n')
    return etc


@pytest.fixture
def cache(tmp_path) -> Path:
    return tmp_path / "cache"


def plan_of(repo, etc_apt, cache):
    return guestimage.plan(guestimage.recipe_dir(repo), cache, MIRROR, etc_apt=etc_apt)


def ensure(repo, etc_apt, cache, runner, log=None):
    return guestimage.ensure_guest_image(repo, MIRROR, log or (lambda msg: None), cache=cache,
                                         runner=runner, etc_apt=etc_apt)


# -- the recipe hash ---------------------------------------------------------------------


def test_the_recipe_hash_is_the_same_for_an_unchanged_recipe(repo, etc_apt, cache):
    assert plan_of(repo, etc_apt, cache).recipe_hash == plan_of(repo, etc_apt, cache).recipe_hash


def test_the_recipe_hash_changes_when_a_package_is_added(repo, etc_apt, cache):
    before = plan_of(repo, etc_apt, cache)
    packages = guestimage.recipe_dir(repo) / "packages"
    packages.write_text(packages.read_text() + "qemu-guest-agent\n")
    after = plan_of(repo, etc_apt, cache)
    assert after.recipe_hash != before.recipe_hash
    assert after.rootfs_hash != before.rootfs_hash


def test_a_comment_in_the_packages_file_changes_the_image_but_not_the_debootstrap(repo, etc_apt, cache):
    before = plan_of(repo, etc_apt, cache)
    packages = guestimage.recipe_dir(repo) / "packages"
    packages.write_text(packages.read_text() + "# a note\n")
    after = plan_of(repo, etc_apt, cache)
    assert after.rootfs_hash == before.rootfs_hash
    assert after.recipe_hash != before.recipe_hash


def test_a_config_file_change_rebuilds_the_image_from_the_same_debootstrap(repo, etc_apt, cache):
    before = plan_of(repo, etc_apt, cache)
    cfg = guestimage.recipe_dir(repo) / "rootfs" / "etc" / "cloud" / "cloud.cfg.d" / "90-fleetfab.cfg"
    cfg.write_text("locale: \"false\"\nresize_rootfs: true\n")
    after = plan_of(repo, etc_apt, cache)
    assert after.recipe_hash != before.recipe_hash
    assert after.tarball == before.tarball


def test_the_recipe_hash_changes_with_the_mirror_or_the_hosts_apt_sources(repo, etc_apt, cache):
    before = plan_of(repo, etc_apt, cache)
    other_mirror = guestimage.plan(guestimage.recipe_dir(repo), cache, "http://other.example.net/debian",
                                   etc_apt=etc_apt)
    (etc_apt / "sources.list.d" / "debian.sources").write_text(SOURCES.replace("main", "main contrib"))
    assert other_mirror.recipe_hash != before.recipe_hash
    assert plan_of(repo, etc_apt, cache).recipe_hash != before.recipe_hash


def test_the_guest_gets_the_hosts_sources_and_only_the_apt_settings_that_reach_the_mirror(repo, etc_apt, cache):
    assert set(plan_of(repo, etc_apt, cache).apt_files) == {"sources.list.d/debian.sources", "apt.conf.d/99proxy"}


def test_the_mirror_is_read_from_the_hosts_apt_sources_when_not_given(repo, etc_apt, cache):
    assert guestimage.plan(guestimage.recipe_dir(repo), cache, etc_apt=etc_apt).mirror == MIRROR


# -- the cache ---------------------------------------------------------------------------


def test_a_first_call_builds_and_publishes_the_image_at_stable_paths(repo, etc_apt, cache):
    runner = CannedRunner()
    image = ensure(repo, etc_apt, cache, runner)
    folder = repo.work / "guest"
    assert (image.disk, image.kernel, image.initrd) == (folder / "bookworm.qcow2", folder / "vmlinuz", folder / "initrd.img")
    assert image.kernel.read_bytes() == b"kernel" and image.initrd.read_bytes() == b"initrd"
    assert image.recipe_hash == plan_of(repo, etc_apt, cache).recipe_hash
    assert (cache / image.recipe_hash / "bookworm.qcow2").samefile(image.disk)


def test_a_second_call_reuses_the_cached_build_and_runs_nothing(repo, etc_apt, cache):
    ensure(repo, etc_apt, cache, CannedRunner())
    again = CannedRunner()
    ensure(repo, etc_apt, cache, again)
    assert again.commands == []


def test_a_fresh_clone_reuses_the_cache_outside_the_checkout(repo, etc_apt, cache, tmp_path):
    first = ensure(repo, etc_apt, cache, CannedRunner())
    clone_recipe = tmp_path / "clone" / "vagrant" / "guest"
    clone_recipe.parent.mkdir(parents=True)
    shutil.copytree(guestimage.recipe_dir(repo), clone_recipe)
    again = CannedRunner()
    image = ensure(LabPaths(tmp_path / "clone"), etc_apt, cache, again)
    assert again.commands == []
    assert image.recipe_hash == first.recipe_hash
    assert image.disk == tmp_path / "clone" / ".lab" / "guest" / "bookworm.qcow2"


def test_a_config_change_rebuilds_the_image_without_debootstrapping_again(repo, etc_apt, cache):
    first = ensure(repo, etc_apt, cache, CannedRunner())
    (guestimage.recipe_dir(repo) / "customize.sh").write_text("#!/bin/sh\ntrue\n")
    again = CannedRunner()
    second = ensure(repo, etc_apt, cache, again)
    assert "debootstrap" not in again.tools()
    assert "mkfs.ext4" in again.tools()
    assert second.recipe_hash != first.recipe_hash


def test_a_package_change_debootstraps_again_and_drops_the_old_tarball(repo, etc_apt, cache):
    first = plan_of(repo, etc_apt, cache)
    ensure(repo, etc_apt, cache, CannedRunner())
    (guestimage.recipe_dir(repo) / "packages").write_text("systemd\nlinux-image-amd64\ncloud-init\n")
    again = CannedRunner()
    ensure(repo, etc_apt, cache, again)
    assert again.tools()[0] == "debootstrap"
    assert not first.tarball.exists()
    assert plan_of(repo, etc_apt, cache).tarball.exists()


def test_only_the_newest_builds_are_kept(repo, etc_apt, cache):
    customize = guestimage.recipe_dir(repo) / "customize.sh"
    hashes = []
    for n in range(guestimage.KEEP_BUILDS + 2):
        customize.write_text(f"#!/bin/sh\n# version {n}\n")
        hashes.append(ensure(repo, etc_apt, cache, CannedRunner()).recipe_hash)
    kept = {d.name for d in cache.iterdir() if d.is_dir()}
    assert kept == set(hashes[-guestimage.KEEP_BUILDS:])


def test_the_build_logs_each_stage_with_its_time(repo, etc_apt, cache):
    lines = []
    ensure(repo, etc_apt, cache, CannedRunner(), log=lines.append)
    assert any(line.startswith("guest: debootstrap bookworm from " + MIRROR) for line in lines)
    assert any(line.startswith("guest: image done (") and line.endswith(" s)") for line in lines)
    assert lines[-1].startswith("guest: ready ")


# -- the build commands ------------------------------------------------------------------


def test_debootstrap_is_minbase_from_the_mirror_with_the_recipes_packages(repo, etc_apt, cache):
    runner = CannedRunner()
    ensure(repo, etc_apt, cache, runner)
    cmd = runner.command("debootstrap")
    assert cmd[1:3] == ["--variant=minbase", "--include=systemd,linux-image-cloud-amd64,cloud-init"]
    assert (cmd[3], cmd[-1]) == ("bookworm", MIRROR)


def test_the_disk_is_filled_by_mkfs_from_the_tree_without_loop_devices(repo, etc_apt, cache):
    runner = CannedRunner()
    ensure(repo, etc_apt, cache, runner)
    mkfs = runner.command("mkfs.ext4")
    assert mkfs[mkfs.index("-d") + 1].endswith("/root")
    assert mkfs[-1] == guestimage.ROOT_SIZE
    assert not {"losetup", "qemu-nbd", "mount"} & set(runner.tools())


def test_the_disk_becomes_a_compressed_qcow2(repo, etc_apt, cache):
    runner = CannedRunner()
    ensure(repo, etc_apt, cache, runner)
    convert = runner.command("qemu-img")
    assert convert[:3] == ["qemu-img", "convert", "-c"]
    assert convert[convert.index("-O") + 1] == "qcow2"
    assert convert[-1].endswith("/bookworm.qcow2")


def test_customize_runs_in_the_tree_and_the_hosts_apt_files_land_after_it(repo, etc_apt, cache, tmp_path):
    p = plan_of(repo, etc_apt, cache)
    root = tmp_path / "root"
    (root / "tmp").mkdir(parents=True)
    runner = CannedRunner()
    guestimage.customize(p, root, runner)
    assert runner.commands == [["chroot", str(root), "/bin/sh", "/tmp/fleetfab-customize.sh"]]
    assert (root / "etc" / "apt" / "sources.list.d" / "debian.sources").read_text() == SOURCES
    assert (root / "etc" / "cloud" / "cloud.cfg.d" / "90-fleetfab.cfg").is_file()
    assert not (root / "tmp" / "fleetfab-customize.sh").exists()


def test_a_tree_without_exactly_one_kernel_is_refused(tmp_path):
    (tmp_path / "boot").mkdir()
    with pytest.raises(LabError, match="expected one /boot/vmlinuz-"):
        guestimage.boot_file(tmp_path, "vmlinuz")


def test_a_guest_overlay_always_names_its_backing_format():
    cmd = guestimage.overlay_command(Path("/b/bookworm.qcow2"), Path("/g/disk.qcow2"), "8G")
    assert cmd[:4] == ["qemu-img", "create", "-f", "qcow2"]
    assert cmd[cmd.index("-F") + 1] == "qcow2"
    assert cmd[cmd.index("-b") + 1] == "/b/bookworm.qcow2"
    assert cmd[-2:] == ["/g/disk.qcow2", "8G"]


def test_the_seed_iso_is_a_nocloud_volume_with_the_three_files(tmp_path):
    cmd = guestimage.seed_command(tmp_path, tmp_path / "seed.iso")
    assert cmd[cmd.index("-volid") + 1] == "cidata"
    assert {"-joliet", "-rock"} <= set(cmd)
    assert [Path(c).name for c in cmd[-3:]] == ["user-data", "meta-data", "network-config"]


# -- which labs need it ------------------------------------------------------------------


def host(name: str, vm: dict | None = None) -> Host:
    return Host(name, "198.18.0.11", 22, "root", (), (), {}, {}, vm=vm)


def test_only_an_inventory_with_a_vm_guest_needs_the_guest_image():
    plain = SimpleNamespace(hosts={"hv1": host("hv1")})
    with_guest = SimpleNamespace(hosts={"hv1": host("hv1"), "g1": host("g1", {"host": "hv1", "cpus": 1})})
    assert not guestimage.declares_guest(plain)
    assert guestimage.declares_guest(with_guest)
