"""A copy of the inventory older than a host's last bootstrap is said so, not raised as drift.

The journal lines here are written by fleetfab's own journal code (fleetfab.journal.entry's
shape, dumped as append_script dumps it), and read back by running the real journal script
with the shell against a journal file in a temporary folder.
"""

import json
import os
import subprocess

import pytest

from fleetfab.scheduled import stale
from fleetfab.scheduled.run import Settings, scheduled_run
from fleetfab.scheduled.state import StateDir
from tests.unit.test_scheduled_documents import FINISHED, FINISHED_SECONDS, document, host

HOSTS_FILE = "file /etc/hosts"
COPY_SOURCE, NEWER = "a" * 64, "b" * 64
#: the copy arrived ten minutes before the drift documents' FINISHED
ARRIVED = FINISHED_SECONDS - 600


def journal_line(at: str, sha256: str | None, summary: str = "content") -> str:
    """One line as fleetfab.journal writes it (keys sorted, one JSON document)."""
    return json.dumps({"at": at, "who": "ops@laptop", "command": "bootstrap",
                       "inventory": {"path": "/srv/fleet.yml", "sha256": sha256, "git_commit": None, "git_state": None},
                       "changes": [{"role": "bind9", "resource": "file /etc/bind/db.example.com", "action": "update",
                                    "summary": summary}], "handlers": [], "failed": False}, sort_keys=True)


def read_journal(tmp_path, *lines: str) -> str:
    """What the real journal script prints on a host with these journal lines."""
    journal = tmp_path / "journal.jsonl"
    journal.write_text("".join(line + "\n" for line in lines))
    script = stale.journal_script().replace(stale.JOURNAL, str(journal))
    return subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=True).stdout


def copy_at(tmp_path, source=COPY_SOURCE, arrived=ARRIVED):
    """An ops host's copy with its source.json, arrived at `arrived`."""
    folder = tmp_path / "inventory"
    folder.mkdir(exist_ok=True)
    (folder / "fleet.yml").write_text("hosts: {}\n")
    (folder / "source.json").write_text(json.dumps({"sha256": source}) + "\n")
    os.utime(folder / "source.json", (arrived, arrived))
    return folder / "fleet.yml"


def test_the_journal_script_prints_only_the_newest_lines_time_and_inventory_digest(tmp_path):
    text = read_journal(tmp_path, journal_line("2026-11-22T01:00:00Z", COPY_SOURCE), journal_line(FINISHED, NEWER))
    assert text.splitlines() == [f'"at": "{FINISHED}"', f'"sha256": "{NEWER}"']


def test_a_digest_named_inside_a_change_summary_is_not_taken_for_the_inventorys(tmp_path):
    text = read_journal(tmp_path, journal_line(FINISHED, NEWER, summary='"sha256": "' + "c" * 64 + '"'))
    assert stale.last_bootstrap(text) == {"at": FINISHED_SECONDS, "sha256": NEWER}


def test_no_journal_is_no_bootstrap(tmp_path):
    assert stale.last_bootstrap(read_journal(tmp_path)) is None


def test_a_run_from_no_inventory_file_names_no_bootstrap(tmp_path):
    assert stale.last_bootstrap(read_journal(tmp_path, journal_line(FINISHED, None))) is None


@pytest.mark.parametrize("answer", ['"at": "yesterday"\n"sha256": "' + NEWER + '"', '"sha256": "' + NEWER + '"',
                                    '"at": "' + FINISHED + '"\n"sha256": "' + NEWER + '"\n"at": "' + FINISHED + '"',
                                    "\x1b]52;c;payload\x07"])
def test_an_answer_of_any_other_shape_is_refused(answer):
    assert stale.last_bootstrap(answer) is None


def test_the_copy_knows_its_source_and_when_it_arrived(tmp_path):
    copy = stale.copy_source(copy_at(tmp_path))
    assert (copy.source, copy.arrived, copy.known) == (COPY_SOURCE, ARRIVED, True)


def test_an_inventory_without_source_json_is_not_an_ops_hosts_copy(tmp_path):
    (tmp_path / "fleet.yml").write_text("hosts: {}\n")
    assert not stale.copy_source(tmp_path / "fleet.yml").known


def copy(arrived=ARRIVED):
    return stale.CopySource(COPY_SOURCE, "c" * 64, arrived)


def test_a_host_bootstrapped_from_another_inventory_after_the_copy_arrived_is_stale():
    assert stale.is_stale(copy(), {"at": ARRIVED + 1, "sha256": NEWER})


def test_a_host_bootstrapped_from_the_copys_own_inventory_is_not():
    assert not stale.is_stale(copy(), {"at": ARRIVED + 1, "sha256": COPY_SOURCE})


def test_a_host_bootstrapped_from_another_inventory_before_the_copy_arrived_is_not():
    """The copy is the newer one: the host's drift is real, it awaits a bootstrap."""
    assert not stale.is_stale(copy(), {"at": ARRIVED - 1, "sha256": NEWER})


def test_an_applying_copys_own_runs_are_its_own():
    assert not stale.is_stale(copy(), {"at": ARRIVED + 1, "sha256": "c" * 64})


class Journals:
    """The journal reader: canned answers per host, and who was asked."""

    def __init__(self, **answers):
        self.answers, self.asked = answers, []

    def __call__(self, name):
        self.asked.append(name)
        return self.answers.get(name)


def newer_bootstrap(at=FINISHED):
    return f'"at": "{at}"\n"sha256": "{NEWER}"\n'


def test_judging_marks_the_stale_host_and_keeps_its_differences_aside():
    doc = stale.judge(document(host("a"), host("b", HOSTS_FILE)), copy(), lambda: Journals(b=newer_bootstrap()))
    entry = doc["hosts"]["b"]
    assert (entry["status"], entry["changes"], [c["resource"] for c in entry["stale_changes"]]) == ("stale", [], [HOSTS_FILE])
    assert (doc["copy"], doc["exit_code"]) == ({"sha256": COPY_SOURCE, "stale_hosts": ["b"]}, stale.STALE)


def test_real_drift_elsewhere_still_exits_2():
    doc = stale.judge(document(host("a", HOSTS_FILE), host("b", HOSTS_FILE)), copy(), lambda: Journals(b=newer_bootstrap()))
    assert (doc["hosts"]["a"]["status"], doc["exit_code"]) == ("changed", 2)


def test_only_drifting_hosts_are_asked_for_their_journal():
    journals = Journals()
    stale.judge(document(host("a"), host("b", HOSTS_FILE), host("c", error="unreachable")), copy(), lambda: journals)
    assert journals.asked == ["b"]


def test_a_clean_fleet_makes_no_journal_reader_at_all():
    def never():
        raise AssertionError("no host drifts: nothing to read")

    assert stale.judge(document(host("a")), copy(), never)["exit_code"] == 0


def test_a_host_whose_journal_cannot_be_read_keeps_its_drift():
    doc = stale.judge(document(host("b", HOSTS_FILE)), copy(), lambda: Journals(b=None))
    assert (doc["hosts"]["b"]["status"], doc["exit_code"]) == ("changed", 2)


def test_a_host_whose_read_side_refused_the_copys_read_outs_is_stale_not_failed():
    """fleetfab.readside.transport.CopyIsOlder's words, as the host's run reports them."""
    refused = host("b", error="copy is older: the host's read side has no read-out for this copy's read the roles' state")
    doc = stale.judge(document(host("a"), refused), stale.CopySource(None, None, None), lambda: Journals())
    assert (doc["hosts"]["b"]["status"], doc["copy"]["stale_hosts"], doc["exit_code"]) == ("stale", ["b"], stale.STALE)


def test_a_host_that_could_not_be_checked_still_outranks_a_stale_copy():
    doc = stale.judge(document(host("a", error="unreachable"), host("b", HOSTS_FILE)), copy(), lambda: Journals(b=newer_bootstrap()))
    assert doc["exit_code"] == 1


def test_a_scheduled_run_reports_a_stale_copy_instead_of_drift(tmp_path):
    """End to end: the run judges the copy beside its inventory, keeps the report, and exits 3."""
    inventory = copy_at(tmp_path)

    def drift(json_path):
        json_path.write_text(json.dumps(document(host("ns1", HOSTS_FILE))))
        return 2

    settings = Settings(state_dir=tmp_path / "state", inventory=inventory)
    code = scheduled_run(settings, drift=drift, reader=Journals(ns1=newer_bootstrap()))
    latest = StateDir(settings.state_dir).latest()
    assert (code, latest["exit_code"], latest["hosts"]["ns1"]["status"]) == (3, 3, "stale")


def test_every_host_that_accepts_the_ops_key_holds_the_journal_read_out(load):
    """The operator's bootstrap installs it with the host's other read-outs: the ops copy may ask for it."""
    from fleetfab.readside.readouts import host_readouts
    from tests.unit.test_readside_readouts import RELEASE, WITH_OPS, operator_book

    readouts, _ = host_readouts(load(WITH_OPS), "ns1", operator_book(), RELEASE)
    assert stale.journal_script() in {r.text for r in readouts.values()}
