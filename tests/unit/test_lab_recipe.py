"""The box is rebuilt exactly when its recipe, the host's apt settings or the lab key change."""

from fleetfab.lab.recipe import digest, image_hash, read_packages, rootfs_hash, tree_parts

PACKAGES = ["systemd", "openssh-server"]
MIRROR = "http://mirror.example.net/debian"
RECIPE = {"Dockerfile": b"FROM base\n", "packages": b"systemd\nopenssh-server\n"}
CONTEXT = {"authorized_keys": b"ssh-ed25519 AAAA lab\n"}


def test_digest_is_independent_of_part_order():
    assert digest({"a": b"1", "b": b"2"}) == digest({"b": b"2", "a": b"1"})


def test_digest_tells_apart_moved_boundaries_between_parts():
    assert digest({"a": b"12", "b": b""}) != digest({"a": b"1", "b": b"2"})


def test_packages_file_allows_comments_and_blank_lines():
    assert read_packages("# lab\nsystemd  # init\n\nsudo\n") == ["systemd", "sudo"]


def test_rootfs_hash_ignores_package_order():
    assert rootfs_hash("bookworm", PACKAGES, MIRROR) == rootfs_hash("bookworm", PACKAGES[::-1], MIRROR)


def test_rootfs_hash_changes_with_packages_suite_or_mirror():
    base = rootfs_hash("bookworm", PACKAGES, MIRROR)
    assert base != rootfs_hash("bookworm", PACKAGES + ["sudo"], MIRROR)
    assert base != rootfs_hash("trixie", PACKAGES, MIRROR)
    assert base != rootfs_hash("bookworm", PACKAGES, "http://other.example.net/debian")


def test_image_hash_is_stable_for_the_same_recipe():
    assert image_hash("r", RECIPE, CONTEXT) == image_hash("r", dict(RECIPE), dict(CONTEXT))


def test_image_hash_changes_when_a_recipe_file_changes():
    assert image_hash("r", RECIPE, CONTEXT) != image_hash("r", {**RECIPE, "Dockerfile": b"FROM other\n"}, CONTEXT)


def test_image_hash_changes_when_the_lab_key_changes():
    other_key = {"authorized_keys": b"ssh-ed25519 BBBB lab\n"}
    assert image_hash("r", RECIPE, CONTEXT) != image_hash("r", RECIPE, other_key)


def test_image_hash_changes_when_the_root_filesystem_changes():
    assert image_hash("r1", RECIPE, CONTEXT) != image_hash("r2", RECIPE, CONTEXT)


def test_recipe_tree_includes_files_in_subfolders(tmp_path):
    (tmp_path / "rootfs" / "etc").mkdir(parents=True)
    (tmp_path / "rootfs" / "etc" / "unit.service").write_bytes(b"[Unit]\n")
    assert tree_parts(tmp_path) == {"rootfs/etc/unit.service": b"[Unit]\n"}
