"""Probe and fix scripts, run by a real shell on files in a temporary folder.

Resources are shell at heart; these tests run that shell, so quoting and
atomic replacement are checked for real, not only as text.
"""

from __future__ import annotations

import getpass
import grp
import os
import subprocess

import pytest

from fleetfab.resources import Absent, Command, Directory, File, Line, Sysctl
from fleetfab.resources.line import proc_path

ME = getpass.getuser()
MY_GROUP = grp.getgrgid(os.getgid()).gr_name


def sh(script: str) -> subprocess.CompletedProcess:
    return subprocess.run(["sh", "-s"], input=script, text=True, capture_output=True)


def converge(resource):
    """Probe, fix if needed, probe again: the change made, and what is left."""
    change = resource.compare(sh(resource.probe()).stdout)
    if change is not None:
        result = sh(resource.fix(change))
        assert result.returncode == 0, result.stderr
    return change, resource.compare(sh(resource.probe()).stdout)


def mine(cls, *args, **kw):
    return cls(*args, owner=ME, group=MY_GROUP, **kw)


def test_file_is_written_and_then_in_its_desired_state(tmp_path):
    target = tmp_path / "it's here.conf"
    change, left = converge(mine(File, str(target), "a = 'quoted' $HOME\n", mode="0640"))
    assert change.action == "create" and left is None
    assert target.read_text() == "a = 'quoted' $HOME\n"
    assert oct(target.stat().st_mode & 0o777) == "0o640"


def test_content_mismatch_is_fixed_and_the_old_file_backed_up(tmp_path, monkeypatch):
    from fleetfab.resources import file as file_module

    monkeypatch.setattr(file_module, "BACKUP_ROOT", str(tmp_path / "backups"))
    target = tmp_path / "app.conf"
    target.write_text("old\n")
    target.chmod(0o644)
    change, left = converge(mine(File, str(target), "new\n"))
    assert change.diff.count("-old") == 1 and left is None
    [backup] = (tmp_path / "backups").rglob("*.d/*")
    assert backup.read_text() == "old\n"


def test_a_file_failing_validation_leaves_the_old_one(tmp_path):
    target = tmp_path / "app.conf"
    target.write_text("good\n")
    resource = mine(File, str(target), "bad\n", validate="grep -q good %s")
    result = sh(resource.fix(resource.compare(sh(resource.probe()).stdout)))
    assert result.returncode == 3 and "validation failed" in result.stderr
    assert target.read_text() == "good\n"
    assert [p.name for p in tmp_path.iterdir()] == ["app.conf"]


def test_directory_is_created(tmp_path):
    change, left = converge(mine(Directory, str(tmp_path / "a" / "b"), mode="0700"))
    assert change.action == "create" and left is None


def test_line_replaces_the_matching_line_and_keeps_the_rest(tmp_path):
    target = tmp_path / "list.conf"
    target.write_text("first\nenabled = no\nlast\n")
    _, left = converge(Line(str(target), "enabled = yes", match="^enabled"))
    assert left is None
    assert target.read_text() == "first\nenabled = yes\nlast\n"


def test_line_with_regex_characters_is_matched_literally(tmp_path):
    target = tmp_path / "list.conf"
    target.write_text("a.b = [1]\n")
    change, left = converge(Line(str(target), "a.b = [1]"))
    assert change is None and left is None


def test_command_runs_once(tmp_path):
    marker = tmp_path / "marker"
    command = Command("touch", run=f"echo ran >> {tmp_path}/log; touch {marker}", creates=str(marker))
    converge(command)
    change, left = converge(command)
    assert change is None and left is None
    assert (tmp_path / "log").read_text() == "ran\n"


def test_absent_file_is_removed(tmp_path, monkeypatch):
    from fleetfab.resources import file as file_module

    monkeypatch.setattr(file_module, "BACKUP_ROOT", str(tmp_path / "backups"))
    target = tmp_path / "old.conf"
    target.write_text("x\n")
    change, left = converge(Absent(str(target)))
    assert change.action == "remove" and left is None and not target.exists()


@pytest.mark.parametrize("content", ["", "no newline at end", "FLEETFAB_EOF is fine inside a line\n", "\x01binary\n"])
def test_any_content_survives_the_trip(tmp_path, content):
    target = tmp_path / "f"
    _, left = converge(mine(File, str(target), content))
    assert left is None and target.read_text() == content


def test_validation_message_names_an_odd_path_literally(tmp_path):
    target = tmp_path / 'a "$HOME" file'
    target.write_text("good\n")
    resource = mine(File, str(target), "bad\n", validate="grep -q good %s")
    result = sh(resource.fix(resource.compare(sh(resource.probe()).stdout)))
    assert result.returncode == 3
    assert f"validation failed, {target} left as it was:" in result.stderr


def live_value_differs(resource) -> bool:
    change = resource.compare(sh(resource.probe()).stdout)
    return change is not None and "live value" in change.summary


def test_sysctl_probe_reads_the_live_value_from_proc_sys():
    assert not live_value_differs(Sysctl("kernel.ostype", "Linux"))
    assert live_value_differs(Sysctl("kernel.ostype", "Plan9"))


def test_sysctl_with_several_fields_compares_them_space_separated():
    low, high = open("/proc/sys/net/ipv4/ip_local_port_range").read().split()
    assert not live_value_differs(Sysctl("net.ipv4.ip_local_port_range", f"{low} {high}"))


def test_sysctl_that_the_kernel_lacks_reads_as_unreadable():
    resource = Sysctl("kernel.no_such_thing", 1)
    assert "live value (unreadable) -> 1" in resource.compare(sh(resource.probe()).stdout).summary


def test_a_dotted_interface_name_is_written_with_a_slash_in_a_sysctl_name():
    assert proc_path("net.ipv4.conf.eth0/100.forwarding") == "/proc/sys/net/ipv4/conf/eth0.100/forwarding"
