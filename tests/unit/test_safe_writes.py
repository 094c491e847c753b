"""Root never writes where another account can redirect it: fix scripts run as
root by a real shell on a temporary tree in which another account (`nobody`)
owns some folders and has planted links to a root-only file."""

from __future__ import annotations

import os
import pwd
import stat
import subprocess

import pytest

from fleetfab import staging
from fleetfab.resources import Absent, Directory, File, Line
from fleetfab.resources import copied as copied_module
from fleetfab.resources import file as file_module
from fleetfab.resources.copied import install_staged

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="root's own writes are what is checked: run as root")

OTHER = "nobody"
SECRET = "root's secret\n"


def sh(script: str) -> subprocess.CompletedProcess:
    return subprocess.run(["sh", "-s"], input=script, text=True, capture_output=True)


def apply(resource) -> subprocess.CompletedProcess:
    change = resource.compare(sh(resource.probe()).stdout)
    return sh(resource.fix(change))


@pytest.fixture
def tree(tmp_path, monkeypatch):
    """tmp/secret (root, 0600), tmp/theirs (the other account's folder), backups under tmp."""
    monkeypatch.setattr(file_module, "BACKUP_ROOT", str(tmp_path / "backups"))
    tmp_path.chmod(0o755)
    secret = tmp_path / "secret"
    secret.write_text(SECRET)
    secret.chmod(0o600)
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    account = pwd.getpwnam(OTHER)
    os.chown(theirs, account.pw_uid, account.pw_gid)
    return tmp_path


def untouched(path) -> bool:
    info = os.stat(path)
    return path.read_text() == SECRET and (info.st_uid, stat.S_IMODE(info.st_mode)) == (0, 0o600)


def other_group() -> str:
    import grp

    return grp.getgrgid(pwd.getpwnam(OTHER).pw_gid).gr_name


def test_a_file_in_another_accounts_folder_is_written_by_that_account_not_through_its_link(tree):
    target = tree / "theirs" / "authorized_keys"
    target.symlink_to(tree / "secret")
    os.lchown(target, pwd.getpwnam(OTHER).pw_uid, -1)
    result = apply(File(str(target), "ssh-ed25519 AAAA key\n", owner=OTHER, group=other_group(), mode="0600"))
    assert result.returncode == 0, result.stderr
    assert untouched(tree / "secret")
    assert not target.is_symlink() and target.read_text() == "ssh-ed25519 AAAA key\n"
    assert target.stat().st_uid == pwd.getpwnam(OTHER).pw_uid


@pytest.fixture
def swapper(tree, monkeypatch):
    """The other account at its fastest: whenever root chmods or chowns a name in
    its folder, that name is swapped for a link to root's secret just before."""
    bin_dir = tree / "bin"
    bin_dir.mkdir()
    for tool in ("chmod", "chown"):
        wrapper = bin_dir / tool
        wrapper.write_text(
            "#!/bin/sh\n"
            f'if [ "$(id -u)" = 0 ]; then for a; do case "$(realpath -m -- "$a")" in {tree}/theirs/*)\n'
            '  [ -L "$a" ] || { mv -f -- "$a" "$a.moved" && ' + f'ln -s {tree}/secret "$a"; }};; esac; done; fi\n'
            f'exec /bin/{tool} "$@"\n')
        wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")


def test_root_chmods_and_chowns_no_name_another_account_can_swap(tree, swapper):
    target = tree / "theirs" / "authorized_keys"
    result = apply(File(str(target), "ssh-ed25519 AAAA key\n", owner=OTHER, group=other_group(), mode="0600"))
    assert result.returncode == 0, result.stderr
    assert untouched(tree / "secret")
    assert target.read_text() == "ssh-ed25519 AAAA key\n"


def test_a_folder_on_the_way_that_another_account_made_a_link_is_refused(tree):
    (tree / "theirs" / ".ssh").symlink_to(tree)
    os.lchown(tree / "theirs" / ".ssh", pwd.getpwnam(OTHER).pw_uid, -1)
    result = apply(File(str(tree / "theirs" / ".ssh" / "secret"), "overwritten\n", owner=OTHER, group=other_group()))
    assert result.returncode == 3 and "symbolic link that another account can change" in result.stderr
    assert untouched(tree / "secret")


def test_a_root_file_in_another_accounts_folder_is_refused(tree):
    target = tree / "theirs" / "config"
    result = apply(File(str(target), "x\n"))
    assert result.returncode == 3 and "can be changed by nobody" in result.stderr
    assert not target.exists()


def test_metadata_of_a_link_in_another_accounts_folder_is_fixed_by_rewriting_not_by_chown(tree):
    target = tree / "theirs" / "authorized_keys"
    target.write_text("k\n")
    target.chmod(0o644)
    resource = File(str(target), "k\n", owner=OTHER, group=other_group(), mode="0600")
    change = resource.compare(sh(resource.probe()).stdout)
    assert change.action == "metadata"
    target.unlink()
    target.symlink_to(tree / "secret")  # swapped after the read, before the fix
    result = sh(resource.fix(change))
    assert result.returncode == 0, result.stderr
    assert untouched(tree / "secret") and target.read_text() == "k\n"


def test_a_directory_swapped_for_a_link_is_neither_chowned_nor_chmodded(tree):
    (tree / "theirs" / "dynamic").symlink_to(tree / "backups-elsewhere", target_is_directory=True)
    (tree / "backups-elsewhere").mkdir(mode=0o700)
    result = apply(Directory(str(tree / "theirs" / "dynamic"), owner=OTHER, group=other_group(), mode="0755"))
    assert result.returncode == 3
    info = os.stat(tree / "backups-elsewhere")
    assert (info.st_uid, stat.S_IMODE(info.st_mode)) == (0, 0o700)


def test_a_directory_is_made_in_another_accounts_folder_and_given_to_its_owner(tree):
    result = apply(Directory(str(tree / "theirs" / "dynamic"), owner=OTHER, group=other_group(), mode="0750"))
    assert result.returncode == 0, result.stderr
    info = os.lstat(tree / "theirs" / "dynamic")
    assert stat.S_ISDIR(info.st_mode) and info.st_uid == pwd.getpwnam(OTHER).pw_uid and stat.S_IMODE(info.st_mode) == 0o750


def test_a_line_in_another_accounts_folder_is_refused(tree):
    target = tree / "theirs" / "list.conf"
    target.symlink_to(tree / "secret")
    result = apply(Line(str(target), "added = yes"))
    assert result.returncode == 3
    assert untouched(tree / "secret")


def test_an_absent_file_that_is_a_link_removes_the_link_only(tree):
    target = tree / "theirs" / "old.conf"
    target.symlink_to(tree / "secret")
    result = apply(Absent(str(target)))
    assert result.returncode == 0, result.stderr
    assert not target.is_symlink() and untouched(tree / "secret")
    assert not (tree / "backups").exists()


def test_a_secret_file_keeps_no_backup_and_a_plain_one_a_root_only_backup(tree):
    plain, secret = tree / "plain.conf", tree / "key.conf"
    for path in (plain, secret):
        path.write_text("old\n")
    assert apply(File(str(plain), "new\n")).returncode == 0
    assert apply(File(str(secret), "new\n", mode="0600", secret=True)).returncode == 0
    backups = tree / "backups"
    assert stat.S_IMODE(backups.stat().st_mode) == 0o700
    assert [p.read_text() for p in backups.rglob("plain.conf.d/*")] == ["old\n"]
    assert not list(backups.rglob("key.conf.d"))


@pytest.fixture
def staging_root(tmp_path, monkeypatch):
    root = tmp_path / "staging"
    monkeypatch.setattr(staging, "STAGING_ROOT", str(root))
    monkeypatch.setattr(copied_module, "STAGING_ROOT", str(root))
    return root


def receive(staged: str, data: bytes) -> subprocess.CompletedProcess:
    return subprocess.run(["sh", "-c", staging.receive_command(staged)], input=data, capture_output=True)


def test_an_upload_is_received_in_a_fresh_root_only_folder_and_installed_after_its_check(tree, staging_root):
    import hashlib

    data = b"image bytes\n"
    digest = hashlib.sha256(data).hexdigest()
    target = tree / "images" / "base.img"
    staged = staging.staged_path(str(target), digest)
    assert receive(staged, data).returncode == 0
    folder = os.stat(os.path.dirname(staged))
    assert (folder.st_uid, stat.S_IMODE(folder.st_mode)) == (0, 0o700)
    result = sh(install_staged(staged, digest, str(target), "root", "root", "0640"))
    assert result.returncode == 0, result.stderr
    assert target.read_bytes() == data and stat.S_IMODE(target.stat().st_mode) == 0o640
    assert list(staging_root.iterdir()) == []


def test_an_upload_is_refused_where_another_account_owns_the_staging_folder(tree, staging_root):
    staging_root.mkdir(mode=0o700)
    os.chown(staging_root, pwd.getpwnam(OTHER).pw_uid, -1)
    result = receive(staging.staged_path("/srv/x", "0" * 64), b"data")
    assert result.returncode != 0 and b"not a folder of root alone" in result.stderr


def test_a_staged_file_changed_before_its_install_is_not_installed(tree, staging_root):
    import hashlib

    target = tree / "images" / "base.img"
    digest = hashlib.sha256(b"good").hexdigest()
    staged = staging.staged_path(str(target), digest)
    assert receive(staged, b"evil").returncode == 0
    result = sh(install_staged(staged, digest, str(target), "root", "root", "0644"))
    assert result.returncode == 1 and "arrived damaged" in result.stderr
    assert not target.exists() and list(staging_root.iterdir()) == []
