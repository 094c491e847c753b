"""The benchmark workload: the bench role's resources and the peers' identical files."""

from __future__ import annotations

from pathlib import Path

import jinja2

from bench import workload
from fleetfab.resources import Command, File, User

PEER_TEMPLATES = Path(workload.__file__).resolve().parent / "peers" / "templates"


class _Ctx:
    class host:
        name = "bench07"


def test_the_bench_role_is_the_four_steps():
    resources = list(workload.BenchRole().resources(_Ctx()))
    assert [type(r) for r in resources] == [User, File, File, Command]
    user, written, copied, command = resources
    assert user.name == workload.BENCH_USER
    assert (written.path, written.content) == (workload.WRITTEN, workload.written_content("bench07"))
    assert copied.content == workload.COPIED_SOURCE.read_text()
    assert command.creates == workload.STAMP


def test_the_peers_write_the_same_file_as_fleetfab():
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(PEER_TEMPLATES)), keep_trailing_newline=True, trim_blocks=True)
    assert env.get_template("bench.conf.j2").render(host_name="bench07") == workload.written_content("bench07")


def test_the_workload_data_matches_the_bench_inventory():
    data = workload.workload_data([["198.18.1.11", ["bench01"]]], "198.18.1.1")
    assert data["packages"] == ["openssh-server", "sudo", "systemd-timesyncd"]
    assert data["admins"] == [{"name": "ops", "keys": [workload.ADMIN_KEY]}]
    assert data["time_servers"] == ["198.18.1.1"] and data["stamp"] == workload.STAMP
    assert Path(data["copied_source"]).is_file()


def test_the_bench_roles_are_the_real_base_role_and_the_bench_role():
    roles = workload.roles()
    assert sorted(roles) == ["base", "bench"]
    assert type(roles["base"]).__module__ == "fleetfab.roles.base"
