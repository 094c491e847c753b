"""Reading drift documents the way every scheduled-run module reads them.

The builders here make canned drift documents from real HostReport
objects, so the scheduled tests follow the report format wherever it goes;
the other test_scheduled_* files import them.
"""

from fleetfab.report.jsonfile import report_document
from fleetfab.report.model import ChangeRecord, HostReport
from fleetfab.resources.base import Change
from fleetfab.scheduled.documents import (checked_successfully, drifting, failed, finished_seconds, missing_report,
                                          utc_now, was_read)

FINISHED = "2026-11-22T03:00:00Z"
FINISHED_SECONDS = 1795316400


def host(name: str, *drift: str, error: str = "", blocked: tuple = (), unchanged: int = 10) -> HostReport:
    """A host's drift report: `drift` names the resources that differ."""
    changes = [ChangeRecord("base", Change(resource, "update", "content", diff=f"--- {resource}\n+++ {resource}\n"))
               for resource in drift]
    return HostReport(name, changes=changes, unchanged=unchanged, error=error, blocked=list(blocked), elapsed=0.5)


def exit_code(reports: list[HostReport]) -> int:
    """drift's rule: a host not checked outranks drift (kept here so these tests need no engine)."""
    if any(r.error or r.blocked for r in reports):
        return 1
    return 2 if any(r.changes for r in reports) else 0


def document(*reports: HostReport, finished: str = FINISHED) -> dict:
    """The document `fab drift --json` would write for these hosts."""
    doc = report_document("drift", list(reports), lambda value: value, exit_code(list(reports)))
    doc["finished"] = finished
    return doc


#: the inventory a host was bootstrapped from after the ops host's copy arrived
NEWER_SHA256 = "b" * 64


def stale_document(*reports: HostReport, stale: tuple = (), finished: str = FINISHED) -> dict:
    """The document a scheduled run keeps once the hosts named in `stale` were found bootstrapped
    from a newer inventory than the ops host's copy (fleetfab.scheduled.stale)."""
    from fleetfab.scheduled.stale import exit_code, mark_stale

    doc = document(*reports, finished=finished)
    for name in stale:
        mark_stale(doc["hosts"][name], {"at": FINISHED_SECONDS, "sha256": NEWER_SHA256})
    doc["exit_code"] = exit_code(doc)
    return doc


def entry(report: HostReport) -> dict:
    return document(report)["hosts"][report.host]


def test_finished_reads_as_unix_seconds():
    assert finished_seconds({"finished": FINISHED}) == FINISHED_SECONDS


def test_a_document_without_a_finished_time_has_no_seconds():
    assert finished_seconds({}) is None


def test_now_is_written_as_drift_writes_finished():
    assert utc_now(lambda: FINISHED_SECONDS) == FINISHED


def test_an_unreachable_host_was_not_read():
    assert not was_read(entry(host("a", error="unreachable: timed out")))


def test_an_unreachable_host_has_no_known_drift():
    assert drifting(entry(host("a", error="unreachable: timed out"))) == {}


def test_a_host_with_a_blocked_resource_was_read_but_failed():
    blocked = entry(host("a", blocked=("file /etc/wg: needs the key of b",)))
    assert (was_read(blocked), failed(blocked), checked_successfully(blocked)) == (True, True, False)


def test_a_drifting_host_was_checked_successfully():
    assert checked_successfully(entry(host("a", "file /etc/hosts")))


def test_drifting_resources_are_keyed_by_name():
    assert set(drifting(entry(host("a", "file /etc/hosts", "service ssh")))) == {"file /etc/hosts", "service ssh"}


def test_a_missing_report_marks_every_previous_host_failed_with_the_reason():
    stand_in = missing_report(document(host("a"), host("b", "file /etc/hosts")), "drift exited 1", 1)
    assert {name: (e["status"], e["error"]) for name, e in stand_in["hosts"].items()} == {
        "a": ("failed", "drift exited 1"), "b": ("failed", "drift exited 1")}


def test_a_missing_report_says_so_at_the_top():
    stand_in = missing_report(None, "drift exited 1", 1, clock=lambda: FINISHED_SECONDS)
    assert (stand_in["error"], stand_in["exit_code"], stand_in["finished"], stand_in["hosts"]) == (
        "drift exited 1", 1, FINISHED, {})
