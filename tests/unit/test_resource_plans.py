"""Plans from canned probe output: each resource type, with its no-op case."""

from __future__ import annotations

import base64
import hashlib

import pytest

from fleetfab.resources import Absent, Command, Directory, File, Line, Packages, Service, Sysctl, User


def file_probe(owner="root root 644", content=b"x = 1\n", secret=False):
    """What a File probe prints: stat, then the content (a secret file: its hash)."""
    found = f"{hashlib.sha256(content).hexdigest()}  -" if secret else base64.b64encode(content).decode()
    return f"{owner}\n{found}\n"


CONF = File("/etc/app.conf", "x = 1\n")

NO_OPS = [
    (CONF, file_probe()),
    (Directory("/srv/app", mode="0750"), "root root 750\n"),
    (Line("/etc/app.conf", "enabled = yes", match="^enabled"), "enabled = yes\n"),
    (Sysctl("net.ipv4.ip_forward", 1), "1\nnet.ipv4.ip_forward = 1\n"),
    (Packages(("curl", "sudo")), "curl installed\nsudo installed\n"),
    (Packages(("telnet",), present=False), "telnet not-installed\n"),
    (Service("ssh"), "UnitFileState=enabled\nActiveState=active\n"),
    (Service("systemd-journald"), "ActiveState=active\nUnitFileState=static\n"),
    (User("ops", groups=("sudo",)), "ops:x:1000:1000::/home/ops:/bin/bash\nops sudo\n"),
    (Command("init", run="init-it", creates="/etc/it"), "done\n"),
    (Absent("/etc/old.conf"), "absent\n"),
]


@pytest.mark.parametrize("resource,output", NO_OPS, ids=lambda v: getattr(v, "key", None))
def test_no_change_when_the_host_matches(resource, output):
    assert resource.compare(output) is None


def test_missing_file_is_created_with_a_diff_from_nothing():
    change = CONF.compare("absent\n")
    assert change.action == "create"
    assert "--- /dev/null" in change.diff and "+x = 1" in change.diff


def test_changed_file_content_shows_a_unified_diff():
    change = CONF.compare(file_probe(content=b"x = 2\n"))
    assert change.action == "update" and change.summary == "content"
    assert "-x = 2\n+x = 1\n" in change.diff


def test_only_a_wrong_mode_is_a_metadata_change():
    change = CONF.compare(file_probe(owner="root root 666"))
    assert (change.action, change.summary) == ("metadata", "mode 666 -> 644")


def test_wrong_owner_is_reported():
    change = File("/etc/x", "x = 1\n", owner="bind", group="bind").compare(file_probe())
    assert change.summary == "owner root:root -> bind:bind"


def test_a_symlink_is_replaced_by_the_file():
    assert CONF.compare("link\n").action == "replace"


def test_secret_file_never_shows_content():
    secret = File("/etc/key", "topsecret-value\n", secret=True, mode="0600")
    change = secret.compare(file_probe(owner="root root 600", content=b"old-secret\n", secret=True))
    assert change.diff == "(secret content, not shown)"
    assert "topsecret" not in change.summary


def test_secret_file_in_place_is_unchanged():
    secret = File("/etc/key", "topsecret-value\n", secret=True, mode="0600")
    assert secret.compare(file_probe(owner="root root 600", content=b"topsecret-value\n", secret=True)) is None


def test_empty_file_matches_empty_content():
    assert File("/etc/empty", "").compare(file_probe(content=b"")) is None


def test_unknown_unit_is_enabled_and_started():
    assert Service("named").compare("").action == "enable start"


def test_secret_file_probe_never_reads_content_back():
    assert "base64" not in File("/etc/key", "v" * 20, secret=True).probe()


def test_directory_that_is_a_file_is_a_conflict_not_a_replacement():
    assert Directory("/srv/app").compare("other\n").action == "conflict"


def test_line_that_differs_is_replaced():
    change = Line("/etc/app.conf", "enabled = yes", match="^enabled").compare("enabled = no\n")
    assert change.action == "update" and change.diff == "-enabled = no\n+enabled = yes\n"


def test_line_in_a_missing_file_is_added():
    assert Line("/etc/new.conf", "a = 1").compare("@absent\n").action == "add"


def test_sysctl_with_wrong_live_value():
    change = Sysctl("net.ipv4.ip_forward", 1).compare("0\nnet.ipv4.ip_forward = 1\n")
    assert change.summary == "live value 0 -> 1"


def test_sysctl_not_persisted():
    change = Sysctl("net.ipv4.ip_forward", 1).compare("1\n")
    assert "not persisted" in change.summary


def test_missing_packages_are_installed_in_one_change():
    change = Packages(("curl", "sudo", "vim")).compare("curl installed\nsudo not-installed\n")
    assert change.summary == "install sudo vim"
    assert change.data == ("sudo", "vim")


def test_package_removal():
    assert Packages(("telnet",), present=False).compare("telnet installed\n").summary == "remove telnet"


def test_stopped_disabled_service_is_enabled_and_started():
    change = Service("ssh").compare("UnitFileState=disabled\nActiveState=inactive\n")
    assert change.action == "enable start"
    fix = Service("ssh").fix(change)
    assert "systemctl enable ssh\nsystemctl start ssh\n" in fix
    assert "systemctl is-active --quiet ssh" in fix


def test_unknown_user_is_created():
    assert User("ops").compare("@absent\n").action == "create"


def test_user_missing_a_group_is_added_to_it():
    change = User("ops", groups=("sudo",)).compare("ops:x:1000:1000::/home/ops:/bin/bash\nops\n")
    assert change.summary == "add to sudo"


def test_command_runs_when_its_guard_fails():
    assert Command("init", run="init-it", unless="test -e /x").compare("todo\n").action == "run"


def test_command_without_a_guard_is_refused():
    with pytest.raises(ValueError, match="needs a guard"):
        Command("init", run="init-it")


def test_present_file_that_should_be_absent_is_removed():
    assert Absent("/etc/old.conf").compare("present\n").action == "remove"


def test_notify_accepts_a_single_name():
    assert File("/etc/x", "", notify="reload x").notify == ("reload x",)
