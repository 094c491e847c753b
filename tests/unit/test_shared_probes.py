"""Shared probes: one command per kind answers each resource exactly as its own probe would.

The files' kind runs real `tar` here, on files in a temporary folder, and is
held to the File's own probe run by a real shell. The units' kind needs
systemd, which this machine lacks: its splitting is specified on canned
`systemctl show` output here, and checked against systemd in tests/infra.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from fleetfab.facts import ProbeOutputError, Shared, batch_script, new_boundary, probe_of, split_output
from fleetfab.resources import File, Service
from fleetfab.resources.filestates import FILES
from fleetfab.resources.unitstates import UNITS


def sh(script: str) -> str:
    return subprocess.run(["sh", "-s"], input=script, text=True, capture_output=True).stdout


def batch_answers(probes: list) -> list[str]:
    boundary = new_boundary()
    return split_output(sh(batch_script(probes, boundary)), boundary, probes)


@pytest.fixture
def files(tmp_path):
    """Paths in every state a File can find: the state of each is in its name."""
    (tmp_path / "regular").write_text("a = 1\nb = 'two'\n")
    (tmp_path / "empty").write_text("")
    private = tmp_path / "private 'quoted' name"
    private.write_text("secret-ish\n")
    private.chmod(0o600)
    (tmp_path / "binary").write_bytes(bytes(range(256)))
    os.link(tmp_path / "regular", tmp_path / "hard-link")
    (tmp_path / "symlink").symlink_to(tmp_path / "regular")
    (tmp_path / "directory").mkdir()
    (tmp_path / "directory" / "inside").write_text("not to be archived\n")
    names = ["regular", "empty", private.name, "binary", "hard-link", "symlink", "directory", "absent"]
    return [str(tmp_path / name) for name in names]


def test_the_files_archive_answers_each_file_as_its_own_probe_does(files):
    resources = [File(path, "") for path in files]
    own = [sh(r.probe()) for r in resources]
    assert batch_answers([probe_of(r) for r in resources]) == own


def test_a_path_written_unusually_is_still_found_in_the_archive(files):
    unusual = files[0].replace("/regular", "//./regular")
    assert batch_answers([Shared(FILES, unusual)]) == [sh(File(files[0], "").probe())]


def test_a_batch_runs_one_tar_for_every_file():
    probes = [probe_of(File(f"/etc/file{i}", "")) for i in range(5)]
    assert batch_script(probes, "B").count("tar ") == 1


def test_a_secret_file_is_never_archived():
    assert probe_of(File("/etc/key", "v", secret=True)) == File("/etc/key", "v", secret=True).probe()


def test_no_archive_at_all_is_an_error_not_every_file_absent():
    with pytest.raises(ProbeOutputError, match="is tar installed"):
        FILES.answers("\n", ["/etc/hosts"])


def test_a_damaged_archive_is_an_error():
    with pytest.raises(ProbeOutputError):
        FILES.answers("bm90IGEgdGFyIGFyY2hpdmUgYXQgYWxs\n", ["/etc/hosts"])


SHOW_TWO = "ActiveState=active\nUnitFileState=enabled\n\nActiveState=inactive\nUnitFileState=\n"


def test_each_unit_gets_its_own_block_of_systemctl_show():
    assert UNITS.answers(SHOW_TWO, ["ssh", "gone"]) == {
        "ssh": "ActiveState=active\nUnitFileState=enabled\n",
        "gone": "ActiveState=inactive\nUnitFileState=\n",
    }


def test_blocks_that_do_not_match_the_units_answer_none_of_them():
    assert UNITS.answers(SHOW_TWO, ["ssh", "gone", "third"]) == {"ssh": "", "gone": "", "third": ""}


def test_a_batch_asks_systemctl_once_for_every_unit():
    probes = [probe_of(Service(name)) for name in ("ssh", "cron", "ssh")]
    script = batch_script(probes, "B")
    assert script.count("systemctl show") == 1 and script.count("ssh") == 1


def test_shared_and_own_probes_keep_their_order_in_the_answers(tmp_path):
    present = tmp_path / "present"
    present.write_text("x\n")
    probes = ["echo first", probe_of(File(str(present), "")), "echo last", probe_of(File(str(tmp_path / "nope"), ""))]
    answers = batch_answers(probes)
    assert answers[0] == "first\n" and answers[2] == "last\n"
    assert answers[1].endswith("\neAo=\n") and answers[3] == "absent\n"


def test_a_missing_kind_section_is_an_error():
    probes = [Shared(FILES, "/etc/hosts")]
    boundary = new_boundary()
    with pytest.raises(ProbeOutputError, match="cut short"):
        split_output(f"\n{boundary} end\n", boundary, probes)
