"""The journal a run leaves on each host it changed: what goes in, what never does, how it stays small."""

from __future__ import annotations

import json
import subprocess

from fleetfab import journal
from fleetfab.redact import Redactor
from fleetfab.report.model import APPLIED, FAILED, PLANNED, ChangeRecord, HostReport
from fleetfab.resources.base import Change


def record(status: str, summary: str = "content", resource: str = "file /etc/x") -> ChangeRecord:
    return ChangeRecord("base", Change(resource, "update", summary), status=status)


def test_a_run_that_changed_nothing_writes_no_line(tmp_path):
    report = HostReport("ns1", changes=[record(PLANNED)])
    assert journal.entry(report, "bootstrap", tmp_path / "i.yml", Redactor()) is None


def test_a_line_lists_every_applied_change_and_who_ran_it(tmp_path):
    (tmp_path / "i.yml").write_text("hosts: {}\n")
    report = HostReport("ns1", changes=[record(APPLIED), record(FAILED, resource="file /etc/y")], handlers=["reload"])
    line = journal.entry(report, "bootstrap", tmp_path / "i.yml", Redactor())
    assert [c["resource"] for c in line["changes"]] == ["file /etc/x"]
    assert line["handlers"] == ["reload"] and line["failed"] and "@" in line["who"]
    assert len(line["inventory"]["sha256"]) == 64


def test_a_secret_in_a_summary_is_redacted(tmp_path):
    redact = Redactor()
    redact.add("s3cr3t-value-123")
    line = journal.entry(HostReport("a", changes=[record(APPLIED, summary="set s3cr3t-value-123")]), "bootstrap",
                         tmp_path / "i.yml", redact)
    assert "s3cr3t-value-123" not in json.dumps(line)


def test_the_inventory_revision_names_its_git_commit_in_a_work_tree(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "i.yml").write_text("hosts: {}\n")
    subprocess.run(["git", "-C", str(tmp_path), "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-q",
                    "--allow-empty", "-m", "x"], check=True)
    journal.inventory_revision.cache_clear()
    assert len(journal.inventory_revision(tmp_path / "i.yml")["git_commit"]) == 40


def test_the_append_keeps_the_file_to_its_last_lines(tmp_path, monkeypatch):
    path = tmp_path / "journal.jsonl"
    monkeypatch.setattr(journal, "PATH", str(path))
    monkeypatch.setattr(journal, "KEPT", 3)
    for n in range(5):
        subprocess.run(["sh", "-c", journal.append_script({"n": n})], check=True)
    assert [json.loads(line)["n"] for line in path.read_text().splitlines()] == [2, 3, 4]
    assert path.stat().st_mode & 0o077 == 0


def test_history_is_newest_first_and_skips_lines_that_are_not_json():
    text = '{"n": 1}\nhand written note\n{"n": 2}\n'
    assert journal.newest_first(text) == [{"n": 2}, {"n": 1}]
