"""Batched probes are framed safely, and secrets never leave the engine."""

from __future__ import annotations

import subprocess

import pytest

from fleetfab.facts import ProbeOutputError, batch_script, new_boundary, split_output
from fleetfab.redact import MASK, Redactor
from fleetfab.report.model import ChangeRecord, HostReport
from fleetfab.resources.base import Change


def run_batch(probes: list, boundary: str) -> str:
    return subprocess.run(["sh", "-s"], input=batch_script(probes, boundary), text=True, capture_output=True).stdout


def test_each_probe_gets_exactly_its_own_output():
    boundary = new_boundary()
    probes = ["echo one", "printf 'no newline'", "echo; echo", "false", "echo oops >&2"]
    assert split_output(run_batch(probes, boundary), boundary, probes) == ["one\n", "no newline", "\n\n", "", ""]


def test_a_probe_that_exits_is_caught_not_taken_for_empty_output():
    boundary = new_boundary()
    with pytest.raises(ProbeOutputError):
        probes = ["echo one", "exit 3", "echo three"]
        split_output(run_batch(probes, boundary), boundary, probes)


def test_output_cut_short_is_an_error_not_a_no_op():
    boundary = new_boundary()
    with pytest.raises(ProbeOutputError):
        split_output(f"\n{boundary} 0\nabsent\n", boundary, ["echo absent", "echo absent"])


def test_boundaries_differ_between_runs():
    assert new_boundary() != new_boundary()


def test_redactor_masks_every_occurrence():
    redact = Redactor()
    redact.add("hunter2-is-secret")
    assert redact("a hunter2-is-secret b hunter2-is-secret") == f"a {MASK} b {MASK}"


def test_redactor_masks_each_line_of_a_multiline_secret():
    redact = Redactor()
    redact.add('key "t" {\n  secret "c2VjcmV0LXNlY3JldA==";\n};')
    assert "c2VjcmV0LXNlY3JldA==" not in redact('+  secret "c2VjcmV0LXNlY3JldA==";')


def test_short_values_are_not_treated_as_secrets():
    redact = Redactor()
    redact.add("yes")
    assert redact("yes we can") == "yes we can"


def test_json_report_of_a_host_is_redacted():
    redact = Redactor()
    redact.add("tsig-secret-material")
    report = HostReport("ns1", changes=[ChangeRecord("bind9", Change("file x", "update", "content", "+tsig-secret-material\n"))])
    assert "tsig-secret-material" not in str(report.as_dict(redact))
