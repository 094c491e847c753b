"""An operator's own role, from a roles_path folder, converged over real sshd like a built-in one.

The `notes` role (tests/unit/roles_written.py) lives in the test's own
project folder beside the inventory, as it would in an operator's repository:
its template beside it, its export read by every member, its handler, and its
after-bootstrap step run through fleetfab.procedure.
"""

from __future__ import annotations

import json
import sys

import pytest
import yaml
from invoke import Exit

from fleetfab.cli import commands, exitcodes
from fleetfab.inventory import load_inventory
from fleetfab.procedure import Procedure
from fleetfab.resources import Command
from fleetfab.role import Role
from fleetfab.report.views import PlainView
from fleetfab.runner import RunOptions, run_fleet
from tests.unit.roles_written import write_notes_role

pytestmark = pytest.mark.integration


@pytest.fixture
def project(sshd, tmp_path, monkeypatch):
    """inventory.yml naming roles/ (the notes role) and two hosts, each its own sshd; FLEETFAB_INVENTORY points at it."""
    write_notes_role(tmp_path / "roles")
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text("".join(f"[127.0.0.1]:{port} {sshd['host_key']}\n" for port in sshd["ports"]))
    document = {
        "ssh": {"user": "root", "identity": str(sshd["client_key"]), "known_hosts": str(known_hosts)},
        "roles_path": ["roles"],
        "vars": {"notes": {"title": "team notes"}},
        "hosts": {name: {"address": "127.0.0.1", "port": port, "roles": ["notes"], "vars": {"notes": {"root": str(tmp_path / name)}}}
                  for name, port in zip(("alpha", "beta"), sshd["ports"])},
    }
    path = tmp_path / "inventory.yml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    monkeypatch.setenv("FLEETFAB_INVENTORY", str(path))
    return tmp_path


def changed_counts(inventory) -> list[tuple[str, int]]:
    result = run_fleet(inventory, inventory.select(None), RunOptions(apply=True, purpose="bootstrap", parallel=2), PlainView())
    return [(r.host, r.changed) for r in result.reports]


def test_bootstrap_converges_an_operator_role_from_its_folder(project):
    assert commands.bootstrap(None) == exitcodes.OK
    assert (project / "alpha/etc/notes.conf").read_text() == "# team notes on alpha\npeer notes-alpha\npeer notes-beta\n"
    assert (project / "beta/handler.log").read_text() == "reloaded\n"


def test_an_operator_roles_after_bootstrap_step_runs_through_the_engine(project):
    assert commands.bootstrap(None) == exitcodes.OK
    assert (project / "alpha/finished").read_text() == "finished\n"
    assert (project / "beta/finished").read_text() == "finished\n"


def test_a_second_bootstrap_of_an_operator_role_changes_nothing(project):
    assert commands.bootstrap(None) == exitcodes.OK
    assert changed_counts(load_inventory()) == [("alpha", 0), ("beta", 0)]


def test_drift_finds_a_hand_edit_of_an_operator_roles_file(project, capsys):
    assert commands.bootstrap(None) == exitcodes.OK
    (project / "beta/etc/notes.conf").write_text("# edited by hand\n")
    capsys.readouterr()
    assert commands.drift("beta") == exitcodes.DRIFT
    assert "file " + str(project / "beta/etc/notes.conf") in capsys.readouterr().out.replace("\n", "")


class Failing(Role):
    name = "notes"

    def resources(self, ctx):
        yield Command("fail on purpose", run="exit 3", creates=f"{ctx.settings['root']}/never")


def test_a_procedure_writes_every_steps_hosts_in_one_json_report(project):
    assert commands.bootstrap(None) == exitcodes.OK
    proc = Procedure("alpha,beta", "notes.finish", json_path=str(project / "report.json"))
    for host in proc.with_role("notes"):
        assert proc.step({"notes": finishing_role()}, [host]) == exitcodes.OK
    proc.finish()
    document = json.loads((project / "report.json").read_text())
    assert (document["command"], sorted(document["hosts"]), document["exit_code"]) == ("notes.finish", ["alpha", "beta"], 0)


def test_a_failed_step_ends_the_procedure_with_its_code(project):
    proc = Procedure("alpha", "notes.fail")
    assert proc.step({"notes": Failing()}) == exitcodes.FAILED
    with pytest.raises(Exit) as ended:
        proc.finish()
    assert ended.value.code == exitcodes.FAILED


def test_a_procedure_given_an_unknown_host_ends_before_contacting_any(project, capsys):
    with pytest.raises(Exit) as ended:
        Procedure("alpha,gamma", "notes.finish")
    assert ended.value.code == exitcodes.FAILED
    assert "gamma: neither a host nor a group" in capsys.readouterr().err


def test_a_procedure_refuses_a_read_only_inventory_before_contacting_any_host(project, capsys):
    path = project / "inventory.yml"
    document = yaml.safe_load(path.read_text())
    path.write_text(yaml.safe_dump({**document, "run": {"read_only": True}}, sort_keys=False))
    with pytest.raises(Exit) as ended:
        Procedure(None, "notes.finish")
    assert ended.value.code == exitcodes.FAILED
    assert "run.read_only: this inventory only checks hosts" in capsys.readouterr().err


def finishing_role():
    """The notes role's own procedure variant, from the module the registry loaded it from."""
    return sys.modules[type(load_inventory().roles["notes"]).__module__].Finishing()
