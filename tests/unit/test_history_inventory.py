"""`fab history` says which inventory a run used: its path, its digest, and whether the file
itself was committed (a repository's commit says nothing of an untracked or modified file)."""

from __future__ import annotations

import subprocess

from fleetfab import journal
from fleetfab.cli.commands import inventory_lines


def git(folder, *args):
    subprocess.run(["git", "-C", str(folder), "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
                   check=True, capture_output=True)


def revision(path):
    journal.inventory_revision.cache_clear()
    return journal.inventory_revision(path)


def work_tree(tmp_path):
    git(tmp_path, "init", "-q")
    git(tmp_path, "commit", "-q", "--allow-empty", "-m", "start")
    return tmp_path / "fleet.yml"


def test_a_committed_inventory_is_said_committed(tmp_path):
    path = work_tree(tmp_path)
    path.write_text("hosts: {}\n")
    git(tmp_path, "add", "fleet.yml")
    git(tmp_path, "commit", "-q", "-m", "inventory")
    assert revision(path)["git_state"] == "committed"


def test_an_untracked_inventory_is_not_said_committed(tmp_path):
    path = work_tree(tmp_path)
    path.write_text("hosts: {}\n")
    assert revision(path)["git_state"] == "untracked"


def test_a_modified_inventory_is_not_said_committed(tmp_path):
    path = work_tree(tmp_path)
    path.write_text("hosts: {}\n")
    git(tmp_path, "add", "fleet.yml")
    git(tmp_path, "commit", "-q", "-m", "inventory")
    path.write_text("hosts: {a: {address: 198.18.0.1}}\n")
    assert revision(path)["git_state"] == "modified"


def test_an_inventory_outside_git_has_no_commit(tmp_path):
    path = tmp_path / "fleet.yml"
    path.write_text("hosts: {}\n")
    assert revision(path)["git_commit"] is None and revision(path)["git_state"] is None


def test_history_shows_path_digest_and_that_the_file_was_not_committed():
    lines = inventory_lines({"path": "inventory/prod.yml", "sha256": "ab" * 32, "git_commit": "c" * 40, "git_state": "modified"})
    assert lines == ["inventory/prod.yml", "sha256 abababababab", "not committed (modified; repository at cccccccccc)"]


def test_history_shows_the_commit_of_a_committed_file():
    lines = inventory_lines({"path": "inventory/prod.yml", "sha256": "ab" * 32, "git_commit": "c" * 40, "git_state": "committed"})
    assert lines[-1] == "committed in cccccccccc"
