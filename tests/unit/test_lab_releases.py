"""Lab machines of either Debian release: the box built for each, from the host's own mirror.

A lab machine runs bookworm unless `lab.release` (the whole lab) or its own
`lab.release` says trixie; its docker box is built for that release.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetfab.lab import aptsources, guestimage
from fleetfab.lab.machines import docker_boxes, machines
from fleetfab.lab.paths import LabPaths

MIXED = """
    lab:
      network: 198.18.0.0/24
    hosts:
      old: {address: 198.18.0.11}
      new: {address: 198.18.0.12, lab: {release: trixie}}
"""
SOURCES = ("Types: deb\n# a bookworm snapshot, once\nURIs: http://mirror.example.net/debian\n"
           "Suites: bookworm bookworm-updates\nComponents: main\n\n"
           "Types: deb\nURIs: http://mirror.example.net/debian-security\nSuites: bookworm-security\nComponents: main\n")


def test_a_machine_runs_bookworm_unless_it_names_its_release(load):
    boxes = {m["name"]: m["boxes"]["docker"] for m in machines(load(MIXED))}
    assert boxes == {"old": "fleetfab/lab-debian:bookworm", "new": "fleetfab/lab-debian:trixie"}


def test_the_lab_wide_release_is_every_machines_default(load):
    inventory = load(MIXED.replace("network: 198.18.0.0/24", "network: 198.18.0.0/24\n      release: trixie"))
    assert {m["boxes"]["docker"] for m in machines(inventory)} == {"fleetfab/lab-debian:trixie"}


def test_every_box_the_machines_use_is_built_for_its_release(load):
    assert docker_boxes(load(MIXED)) == {"fleetfab/lab-debian:bookworm": "bookworm",
                                         "fleetfab/lab-debian:trixie": "trixie"}


def test_a_release_fleetfab_does_not_support_is_an_inventory_problem(problems):
    [problem] = problems(MIXED.replace("release: trixie", "release: forky"))
    assert "hosts.new.lab.release" in problem and "bookworm or trixie" in problem


@pytest.fixture
def etc_apt(tmp_path) -> Path:
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "apt.conf.d").mkdir()
    (tmp_path / "sources.list.d" / "debian.sources").write_text(SOURCES)
    return tmp_path


def test_a_release_the_host_does_not_run_comes_from_the_mirror_of_its_own(etc_apt):
    assert aptsources.release_mirror("trixie", etc_apt) == "http://mirror.example.net/debian"


def test_the_machines_sources_for_another_release_change_only_the_suite_names(etc_apt):
    [(path, data)] = aptsources.suite_sources("trixie", etc_apt).items()
    text = data.decode()
    assert path.name == "debian.sources"
    assert "Suites: trixie trixie-updates\n" in text and "Suites: trixie-security\n" in text
    assert "# a bookworm snapshot, once" in text  # comments and URIs are the host's own


def test_one_line_sources_are_retargeted_too():
    text = "deb [arch=amd64] http://mirror.example.org/debian bookworm main\n# bookworm\n"
    assert aptsources.retarget(text, "bookworm", "trixie") == (
        "deb [arch=amd64] http://mirror.example.org/debian trixie main\n# bookworm\n")


def test_sources_for_the_hosts_own_release_are_taken_as_they_are(etc_apt):
    [data] = aptsources.suite_sources("bookworm", etc_apt).values()
    assert data.decode() == SOURCES


def test_a_trixie_guest_image_is_its_own_disk_in_its_own_folder(tmp_path, etc_apt):
    recipe = tmp_path / "repo" / "vagrant" / "guest"
    recipe.mkdir(parents=True)
    (recipe / "packages").write_text("systemd\n")
    paths = LabPaths(tmp_path / "repo")
    plan = guestimage.plan(guestimage.recipe_dir(paths), tmp_path / "cache", suite="trixie", etc_apt=etc_apt)
    assert plan.image().disk.name == "trixie.qcow2" and plan.tarball.name.startswith("rootfs-trixie-")
    assert "Suites: trixie trixie-updates" in plan.apt_files["sources.list.d/debian.sources"].decode()
    assert guestimage.guest_folder(paths, "trixie") == paths.work / "guest" / "trixie"
    assert guestimage.guest_folder(paths) == paths.work / "guest"
