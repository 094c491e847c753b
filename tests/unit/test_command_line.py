"""The command line never surprises: `-` is standard output wherever a path is taken, Fabric's
options that fleetfab would ignore are refused with what to use instead, and a password is read
from a pipe only when asked (--stdin)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fleetfab.diagram import load_report
from fleetfab.report.jsonfile import write_report

ROOT = Path(__file__).resolve().parents[2]
FAB = Path(sys.executable).with_name("fab")
NO_HOSTS = "hosts: {}\n"


def fab(*args, inventory, stdin: str = "") -> subprocess.CompletedProcess:
    env = {**os.environ, "FLEETFAB_INVENTORY": str(inventory)}
    return subprocess.run([str(FAB), *args], cwd=ROOT, env=env, input=stdin, capture_output=True, text=True, timeout=60)


def test_json_dash_is_standard_output_and_nothing_else_is(write_inventory):
    done = fab("drift", "--json", "-", inventory=write_inventory(NO_HOSTS))
    assert done.returncode == 0
    assert json.loads(done.stdout)["command"] == "drift"
    assert "host(s) checked" in done.stderr
    assert not (ROOT / "-").exists()


def test_a_report_written_to_dash_is_printed(capsys):
    write_report("-", {"command": "drift", "hosts": {}})
    assert json.loads(capsys.readouterr().out) == {"command": "drift", "hosts": {}}


def test_a_drift_report_given_as_dash_is_read_from_standard_input(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps({"hosts": {"ns1": {"status": "ok"}}})))
    assert load_report("-")["hosts"] == {"ns1": {"status": "ok"}}


@pytest.mark.parametrize("option, advice", [
    (["-i", "/nonexistent/key"], "-i/--identity is not used by fleetfab: fleetfab logs in with the inventory's key: set ssh.identity"),
    (["-S", "/nonexistent"], "-S/--ssh-config is not used by fleetfab"),
    (["-t", "5"], "set ssh.connect_timeout in the inventory"),
    (["-R"], "a dry run is the task's own option"),
])
def test_a_fabric_option_fleetfab_would_ignore_is_refused_with_what_to_use(write_inventory, option, advice):
    done = fab(*option, "inventory", inventory=write_inventory(NO_HOSTS))
    assert done.returncode == 1
    assert advice in done.stderr and "nothing was contacted." in done.stderr
    assert "Traceback" not in done.stderr


def test_the_fleetfab_command_refuses_a_prompt_option_before_it_prompts(write_inventory):
    env = {**os.environ, "FLEETFAB_INVENTORY": str(write_inventory(NO_HOSTS))}
    done = subprocess.run([sys.executable, "-c", "from fleetfab.tasks.program import main; main()",
                           "--prompt-for-sudo-password", "inventory"],
                          cwd=ROOT, env=env, input="", capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "NOPASSWD" in done.stderr and "GetPassWarning" not in done.stderr


def test_hash_password_reads_standard_input_with_stdin(write_inventory):
    done = fab("mail.hash-password", "--stdin", inventory=write_inventory(NO_HOSTS), stdin="correct horse\n")
    assert done.returncode == 0
    assert done.stdout.startswith("{SHA512-CRYPT}$6$") and "correct horse" not in done.stdout + done.stderr


def test_hash_password_from_a_pipe_without_stdin_points_at_it_instead_of_a_warning(write_inventory):
    done = fab("mail.hash-password", inventory=write_inventory(NO_HOSTS), stdin="correct horse\n")
    assert done.returncode == 1
    assert "--stdin" in done.stderr and "GetPassWarning" not in done.stderr
    assert done.stdout == ""
