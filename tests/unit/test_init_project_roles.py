"""`fleetfab init` lays out an operator's project: roles/ named by the inventory's roles_path, a fabfile that adds
tasks to fleetfab's, and the fabric.yaml that makes -H take inventory hosts and groups for them."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from fleetfab.inventory import load_inventory
from fleetfab.starter import write_project, write_starter
from tests.unit.roles_written import write_module_role

ROOT = Path(__file__).resolve().parents[2]
FAB = Path(sys.executable).parent / "fab"


@pytest.fixture
def identity(tmp_path):
    key = tmp_path / "keys" / "id_ed25519"
    key.parent.mkdir()
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    return key


def test_the_project_gets_a_roles_folder_a_fabfile_and_fabric_yaml(tmp_path, identity):
    write_starter(tmp_path / "hosts.yml", "alice", str(identity), None, project=tmp_path)
    assert {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file() and "keys" not in p.parts} == {
        "hosts.yml", "roles/README.md", "fabfile.py", "fabric.yaml"}


def test_the_inventory_names_the_roles_folder_relative_to_itself(tmp_path, identity):
    path = tmp_path / "inventory" / "hosts.yml"
    write_starter(path, "alice", str(identity), None, project=tmp_path)
    assert yaml.safe_load(path.read_text())["roles_path"] == ["../roles"]
    assert load_inventory(path).roles_path == ((tmp_path / "roles").resolve(),)


def test_a_role_put_in_the_roles_folder_is_found_by_the_starting_inventory(tmp_path, identity):
    write_starter(tmp_path / "hosts.yml", "alice", str(identity), "web1=198.51.100.10", project=tmp_path)
    write_module_role(tmp_path / "roles", "motd")
    assert "motd" in load_inventory(tmp_path / "hosts.yml").roles


def test_the_project_files_are_never_overwritten(tmp_path):
    (tmp_path / "fabric.yaml").write_text("mine\n")
    (tmp_path / "fabfile").mkdir()
    written = write_project(tmp_path)
    assert [p.name for p in written] == ["README.md"]
    assert (tmp_path / "fabric.yaml").read_text() == "mine\n" and not (tmp_path / "fabfile.py").exists()


def test_the_fabric_yaml_written_says_what_fleetfabs_own_says(tmp_path):
    write_project(tmp_path)
    assert yaml.safe_load((tmp_path / "fabric.yaml").read_text()) == yaml.safe_load((ROOT / "fabric.yaml").read_text())


OWN_TASK = '''

from invoke import task
from fleetfab.procedure import Procedure


@task
def mine(c):
    """Print the hosts -H selected, as a procedure of mine sees them."""
    print("selected:", " ".join(h.name for h in Procedure(c, "mine").selected))


ns.add_task(mine)
'''


def fab(project: Path, *args: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "FLEETFAB_INVENTORY": str(project / "hosts.yml")}
    return subprocess.run([str(FAB), *args], cwd=project, env=environment, capture_output=True, text=True, timeout=60)


def test_an_operators_own_task_beside_fleetfabs_takes_inventory_groups_with_minus_h(tmp_path, identity):
    write_starter(tmp_path / "hosts.yml", "alice", str(identity), "web1=198.51.100.10,web2=198.51.100.11", project=tmp_path)
    with open(tmp_path / "fabfile.py", "a") as fabfile:
        fabfile.write(textwrap.dedent(OWN_TASK))
    listed = fab(tmp_path, "--list")
    assert "bootstrap" in listed.stdout and "mine" in listed.stdout, listed.stderr
    ran = fab(tmp_path, "-H", "fleet", "mine")
    assert (ran.returncode, ran.stdout) == (0, "selected: web1 web2\n"), ran.stderr
