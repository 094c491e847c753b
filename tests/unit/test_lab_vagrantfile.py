"""The Vagrantfile builds a lab from the boxes it has and finds the inventory where the operator stands.

Each test validates a copy of the Vagrantfile in a temporary folder, so no
state of the repository's own lab is read or written (about 2 s each).
"""

from __future__ import annotations

import shutil
import subprocess
import textwrap

import pytest

from fleetfab.lab.paths import LabPaths
from fleetfab.lab.vagrant import environment

pytestmark = pytest.mark.skipif(shutil.which("vagrant") is None, reason="vagrant is not installed")

INVENTORY = """
    ssh:
      identity: {key}
    lab:
      network: 198.18.0.0/24
      {boxes}
    hosts:
      a: {{address: 198.18.0.11}}
"""


@pytest.fixture
def lab(tmp_path):
    """A repository holding only the Vagrantfile, a key, and a folder to run vagrant in."""
    paths = LabPaths(tmp_path / "repo")
    paths.vagrant_dir.mkdir(parents=True)
    shutil.copy(LabPaths().vagrant_dir / "Vagrantfile", paths.vagrant_dir)
    key = tmp_path / "id_ed25519"
    key.write_text("not a key: validate only checks it exists\n")
    key.with_suffix(".pub").write_text("ssh-ed25519 AAAA test\n")
    operator = tmp_path / "operator"
    operator.mkdir()

    def write(boxes: str, name: str = "lab.yml"):
        path = operator / name
        path.write_text(textwrap.dedent(INVENTORY.format(key=key, boxes=boxes)).lstrip("\n"))
        return path

    return paths, operator, write


def validate(paths, cwd, inventory, provider) -> subprocess.CompletedProcess:
    """`vagrant validate` with a Vagrant home of its own.

    Vagrant's checks visit every machine in the user's global machine index,
    loading each one's own Vagrantfile with this environment: a lab that is
    up (the repository's own) would then be read with the test's inventory
    and fail on a machine it does not name.
    """
    env = {**environment(paths, inventory, provider), "VAGRANT_HOME": str(paths.root / "vagrant-home")}
    return subprocess.run(["vagrant", "validate"], cwd=cwd, capture_output=True, text=True, env=env, timeout=120)


def test_vagrant_accepts_a_docker_lab_whose_inventory_names_only_the_docker_box(lab):
    paths, operator, write = lab
    result = validate(paths, operator, write("boxes: {docker: fleetfab/lab-debian:bookworm}"), "docker")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "validated successfully" in result.stdout


def test_vagrant_accepts_a_docker_lab_whose_inventory_names_no_boxes(lab):
    paths, operator, write = lab
    result = validate(paths, operator, write(""), "docker")
    assert result.returncode == 0, result.stdout + result.stderr


def test_vagrant_stops_on_a_missing_box_for_its_provider_with_the_inventory_problem(lab):
    paths, operator, write = lab
    inventory = write("boxes: {docker: fleetfab/lab-debian:bookworm}")
    result = validate(paths, operator, inventory, "libvirt")
    assert result.returncode != 0
    assert f"{inventory}:5: lab.boxes: no box for provider 'libvirt'" in result.stdout + result.stderr
    assert "KeyError" not in result.stdout + result.stderr


def test_a_relative_inventory_is_read_from_the_folder_vagrant_runs_in(lab):
    paths, operator, write = lab
    write("boxes: {docker: fleetfab/lab-debian:bookworm, libvirt: debian/bookworm64}", name="from-the-operator.yml")
    result = validate(paths, operator, "from-the-operator.yml", "docker")
    assert result.returncode == 0, result.stdout + result.stderr
