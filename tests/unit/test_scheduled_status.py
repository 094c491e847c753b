"""The operator's status of the ops host's last scheduled run, rendered from latest.json and changes.json."""

from rich.console import Console

from fleetfab.scheduled.changes import compare
from fleetfab.scheduled.documents import missing_report
from fleetfab.scheduled.status import change_lines, print_status, status_table
from tests.unit.test_scheduled_documents import FINISHED, document, host

HOSTS_FILE = "file /etc/hosts"


def shown(latest, change) -> str:
    console = Console(record=True, width=200, color_system=None)
    print_status(console, latest, change)
    return console.export_text()


def rows(latest) -> list[list[str]]:
    table = status_table(latest)
    cells = [list(column.cells) for column in table.columns]
    return [list(row) for row in zip(*cells)]


def test_each_host_has_a_row_with_status_drift_count_and_resources():
    latest = document(host("b", HOSTS_FILE), host("a"))
    assert rows(latest) == [["a", "[green]ok[/green]", "0", "", ""],
                            ["b", "[yellow]changed[/yellow]", "1", HOSTS_FILE, ""]]


def test_a_failed_host_shows_why():
    assert rows(document(host("a", error="unreachable: timed out")))[0][4] == "unreachable: timed out"


def test_a_blocked_host_shows_what_is_blocked():
    assert rows(document(host("a", blocked=("file /etc/wg0.conf: needs b",))))[0][4] == "blocked: file /etc/wg0.conf: needs b"


def test_many_drifting_resources_are_cut_short():
    cell = rows(document(host("a", *(f"file /etc/f{n}" for n in range(5)))))[0][3]
    assert cell == "file /etc/f0, file /etc/f1, file /etc/f2 and 2 more"


def test_the_title_gives_the_runs_time_and_verdict():
    assert shown(document(host("a", HOSTS_FILE)), None).splitlines()[0] == (
        f"last scheduled drift: {FINISHED}, drift (exit 2)")


def test_the_changes_since_the_run_before_are_listed():
    change = compare(document(host("a")), document(host("a", HOSTS_FILE), finished="2026-11-22T03:15:00Z"))
    assert change_lines(change) == [f"since the run before ({FINISHED}):", f"  a: drift appeared: {HOSTS_FILE}"]


def test_no_change_is_said_in_one_line():
    assert change_lines(compare(document(host("a")), document(host("a")))) == [f"since the run before ({FINISHED}): no change"]


def test_a_quiet_first_run_says_it_was_the_first():
    assert change_lines(compare(None, document(host("a")))) == [
        "first scheduled run, compared with a clean fleet: nothing to report"]


def test_a_missing_change_document_is_explained():
    assert change_lines(None) == ["no comparison yet: the ops host has not recorded one"]


def test_a_run_that_wrote_no_report_shows_its_error_first():
    stand_in = missing_report(document(host("a")), "drift exited 1 without writing a report", 1)
    assert shown(stand_in, compare(document(host("a")), stand_in)).splitlines()[0] == (
        "drift exited 1 without writing a report")


def test_a_run_that_wrote_no_report_is_listed_as_a_change():
    stand_in = missing_report(document(host("a")), "bad inventory", 1)
    assert "  the drift check wrote no report" in change_lines(compare(document(host("a")), stand_in))


def test_no_report_yet_is_said_plainly():
    assert shown(None, None).strip() == "no scheduled drift report yet"


def test_markup_in_a_host_error_is_shown_as_text():
    assert "[bold]x[/bold]" in shown(document(host("a", error="[bold]x[/bold]")), None)
