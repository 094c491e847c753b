"""What a host report counts, so summaries and JSON tell the truth."""

from fleetfab.report.model import APPLIED, FAILED, PLANNED, SKIPPED, ChangeRecord, HostReport, totals
from fleetfab.resources.base import Change


def record(status: str) -> ChangeRecord:
    return ChangeRecord("base", Change("file /etc/x", "update", "content"), status=status)


def test_a_stopped_host_counts_what_it_applied_failed_and_skipped():
    report = HostReport("a", changes=[record(APPLIED), record(FAILED), record(SKIPPED)])
    assert (report.changed, report.failed, report.skipped, report.status) == (1, 1, 1, "failed")


def test_a_drift_counts_every_difference_as_changed():
    report = HostReport("a", changes=[record(PLANNED), record(PLANNED)], unchanged=3)
    assert (report.changed, report.unchanged, report.status) == (2, 3, "changed")


def test_a_host_that_failed_outside_any_change_counts_one_failure():
    assert HostReport("a", error="unreachable: timed out").failed == 1


def test_a_clean_host_is_ok():
    assert HostReport("a", unchanged=15).status == "ok"


def test_totals_add_up_hosts():
    reports = [HostReport("a", changes=[record(APPLIED)]), HostReport("b", error="x")]
    assert totals(reports) == {"changed": 1, "unchanged": 0, "failed": 1, "skipped": 0, "hosts": 2, "hosts_failed": 1, "from_memory": 0}
