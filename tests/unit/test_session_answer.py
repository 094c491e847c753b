"""A session read's answer in one piece, run by a real shell as the session's shell would run it."""

from __future__ import annotations

import subprocess

from fleetfab.facts import batch_script, end_line, split_output
from fleetfab.session import in_one_piece

BOUNDARY = "FLEETFAB-0123456789abcdef01234567"
END = end_line(BOUNDARY)


def session_shell(*scripts: str) -> subprocess.CompletedProcess:
    """`sh -s` reading scripts one after the other, as the session's shell does."""
    return subprocess.run(["sh", "-s"], input="".join(scripts), capture_output=True, text=True, timeout=10)


def test_the_answer_is_the_scripts_own_output_byte_for_byte():
    probes = ["printf 'two\\n\\n\\n'", "echo one", "printf 'no newline'", "echo err >&2; echo out"]
    script = batch_script(probes, BOUNDARY)
    plain = session_shell(script).stdout
    answer = session_shell(in_one_piece(script, END)).stdout
    assert answer == plain
    assert split_output(answer, BOUNDARY, probes) == ["two\n\n\n", "one\n", "no newline", "out\n"]


def test_the_shell_reads_the_next_script_after_an_answer():
    first, second = batch_script(["echo a"], BOUNDARY), batch_script(["echo b"], BOUNDARY)
    result = session_shell(in_one_piece(first, END), in_one_piece(second, END))
    assert result.returncode == 0
    assert result.stdout == session_shell(first).stdout + session_shell(second).stdout


def test_a_probe_that_exits_still_ends_the_session_shell():
    script = batch_script(["exit 0", "echo never"], BOUNDARY)
    result = session_shell(in_one_piece(script, END), in_one_piece(batch_script(["echo next"], BOUNDARY), END))
    assert result.returncode == 3
    assert result.stdout == ""  # nothing of the cut answer, and the next script never ran


def test_an_answer_that_starts_with_its_end_line_is_complete():
    assert session_shell(in_one_piece(f"echo '{END}'", END)).stdout == f"{END}\n"


def test_a_line_that_only_contains_the_end_is_not_the_end():
    result = session_shell(in_one_piece(f"echo 'x {END} y'", END))
    assert result.returncode == 3 and result.stdout == ""
