"""A lab needs only the box of the provider it uses; a missing one is an inventory problem."""

from pathlib import Path

import pytest

from fleetfab.inventory import InventoryError
from fleetfab.lab import lifecycle
from fleetfab.lab.__main__ import main
from fleetfab.lab.lifecycle import Lab
from fleetfab.lab.machines import DOCKER_BOX, box_problems, docker_box, machines

ONLY_DOCKER = """
    lab:
      network: 198.18.0.0/24
      boxes:
        docker: local/lab-debian:test
    hosts:
      a: {address: 198.18.0.11}
      b: {address: 198.18.0.12}
"""

NO_BOXES = """
    lab:
      network: 198.18.0.0/24
    hosts:
      a: {address: 198.18.0.11}
"""


def test_only_a_docker_box_is_enough_for_the_docker_provider(load):
    inventory = load(ONLY_DOCKER)
    assert box_problems(inventory, "docker") == []
    assert [m["boxes"] for m in machines(inventory)] == [{"docker": "local/lab-debian:test"}] * 2


def test_without_any_boxes_docker_uses_the_box_the_lab_builds(load):
    inventory = load(NO_BOXES)
    assert box_problems(inventory, "docker") == []
    assert docker_box(inventory.lab) == DOCKER_BOX
    assert machines(inventory)[0]["boxes"] == {"docker": DOCKER_BOX}


def test_a_missing_box_for_the_provider_in_use_is_an_inventory_problem_at_lab_boxes(load):
    inventory = load(ONLY_DOCKER)
    [problem] = box_problems(inventory, "libvirt")
    assert str(problem).startswith(f"{inventory.path}:3: lab.boxes: no box for provider 'libvirt' (boxes named: docker)")


def test_without_lab_boxes_the_missing_box_problem_points_at_the_lab_section(load):
    inventory = load(NO_BOXES)
    [problem] = box_problems(inventory, "virtualbox")
    assert (problem.line, problem.field) == (1, "lab.boxes")
    assert "(boxes named: none)" in problem.message


def test_the_machines_helper_refuses_a_provider_without_a_box(write_inventory, capsys):
    path = write_inventory(ONLY_DOCKER)
    assert main(["machines", "--inventory", str(path), "--provider", "libvirt"]) == 2
    assert f"{path}:3: lab.boxes: no box for provider 'libvirt'" in capsys.readouterr().err


def test_the_machines_helper_accepts_the_provider_whose_box_is_named(write_inventory, capsys):
    path = write_inventory(ONLY_DOCKER)
    assert main(["machines", "--inventory", str(path), "--provider", "docker"]) == 0
    assert '"local/lab-debian:test"' in capsys.readouterr().out


def test_the_lab_refuses_a_provider_without_a_box_before_vagrant_runs(write_inventory, monkeypatch):
    ran = []
    monkeypatch.setattr(lifecycle, "vagrant", lambda *args, **kw: ran.append(args))
    lab = Lab(write_inventory(ONLY_DOCKER), provider="libvirt")
    with pytest.raises(InventoryError, match=r":3: lab.boxes: no box for provider 'libvirt'"):
        lab.vagrant("status")
    assert ran == []


def test_lab_up_refuses_a_provider_without_a_box_before_making_a_key_or_box(write_inventory, monkeypatch):
    made = []
    monkeypatch.setattr(lifecycle.keys, "ensure_key", lambda key: made.append(key))
    lab = Lab(write_inventory(ONLY_DOCKER), provider="virtualbox")
    with pytest.raises(InventoryError, match="no box for provider 'virtualbox'"):
        lifecycle.up(lab, log=lambda line: None)
    assert made == []


def test_the_lab_inventory_names_a_box_for_every_provider_it_documents():
    lab = Lab(Path(__file__).resolve().parents[2] / "inventory" / "lab.yml")
    assert [box_problems(lab.inventory, p) for p in ("docker", "libvirt", "virtualbox")] == [[], [], []]
