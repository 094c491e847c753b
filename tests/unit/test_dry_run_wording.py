"""A plan never reads as done: hosts with changes found but not applied (a dry run, a drift) are
'would change' in the live view, the plain lines and the summary table; the JSON keeps its status."""

from __future__ import annotations

import io

from rich.console import Console

from fleetfab.report.model import APPLIED, PLANNED, ChangeRecord, HostReport
from fleetfab.report.render import summary_table
from fleetfab.report.views import PlainView
from fleetfab.resources.base import Change


def report(status: str) -> HostReport:
    change = Change("file /etc/hosts", "update", "content")
    return HostReport("ns1", changes=[ChangeRecord("base", change, status=status)], unchanged=14)


def rendered(table) -> str:
    console = Console(file=io.StringIO(), width=200, color_system=None)
    console.print(table)
    return console.file.getvalue()


def test_a_planned_change_is_would_change():
    assert report(PLANNED).label == "would change"


def test_an_applied_change_is_changed():
    assert report(APPLIED).label == "changed"


def test_the_plain_line_of_a_plan_says_would_change():
    stream = io.StringIO()
    PlainView(stream).finish("ns1", report(PLANNED))
    assert stream.getvalue() == "[ns1] would change (would change 1, unchanged 14, failed 0)\n"


def test_the_plain_line_of_an_applied_run_says_changed():
    stream = io.StringIO()
    PlainView(stream).finish("ns1", report(APPLIED))
    assert stream.getvalue() == "[ns1] changed (changed 1, unchanged 14, failed 0)\n"


def test_the_dry_summary_table_counts_what_would_change():
    text = rendered(summary_table([report(PLANNED)], "bootstrap (dry run: nothing was changed)", dry=True))
    assert "would change" in text and "| changed" not in text.replace("│", "|")


def test_the_json_status_stays_changed_for_schedulers():
    assert report(PLANNED).as_dict(lambda text: text)["status"] == "changed"
