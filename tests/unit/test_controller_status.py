"""`fab drift.status` reads the ops host's two state files in one command."""

import json

from fleetfab.roles.controller.status import BETWEEN, parse, read_script


def test_both_files_are_read_in_one_script_that_never_fails_on_a_missing_one():
    script = read_script()
    assert "latest.json 2>/dev/null || true" in script and "changes.json 2>/dev/null || true" in script


def test_the_two_documents_are_told_apart():
    latest, change = parse(json.dumps({"exit_code": 2}) + BETWEEN + json.dumps({"changed": True}))
    assert latest == {"exit_code": 2} and change == {"changed": True}


def test_an_ops_host_that_has_not_run_a_check_yet_has_neither():
    assert parse(BETWEEN) == [None, None]


def test_a_damaged_file_reads_as_missing_not_as_a_crash():
    assert parse('{"exit_co' + BETWEEN + "{}") == [None, {}]
