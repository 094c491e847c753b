"""`fab drift.status` reads the ops host's state files and its timer in one command, and says what they mean."""

import json

from rich.console import Console

from fleetfab.roles.controller.status import BETWEEN, FILES, parse, parse_timer, read_script
from fleetfab.scheduled.status import revision_line, schedule_lines, status_exit_code, worst

SOURCE = "a" * 64
OTHER = "b" * 64
#: what the script prints of a monotonic timer on a lab host (systemd 252): `systemctl show --timestamp=unix`
#: of the timer and the service, busctl's NextElapseUSecMonotonic, /proc/uptime and date +%s
TIMER_SHOWN = ("NextElapseUSecRealtime=\nActiveState=inactive\nMonotonic=t 20239288360\n"
               "Uptime=20228.68\nNow=1796269696\n")


def answer(latest="", change="", source="", notification="", timer=TIMER_SHOWN) -> str:
    return BETWEEN.join([latest, change, source, notification, timer])


def test_every_file_is_read_in_one_script_that_never_fails_on_a_missing_one():
    script = read_script()
    assert all(f"{path} 2>/dev/null || true" in script for path in FILES)


def test_the_timer_is_read_in_unix_seconds_in_the_same_script():
    assert "systemctl show --timestamp=unix -p NextElapseUSecRealtime fleetfab-drift.timer" in read_script()


def test_the_documents_are_told_apart():
    found = parse(answer(json.dumps({"exit_code": 2}), json.dumps({"changed": True}), json.dumps({"sha256": SOURCE}),
                         json.dumps({"ok": True, "at": 5})))
    assert (found["latest"], found["change"], found["source"], found["notification"]["ok"]) == (
        {"exit_code": 2}, {"changed": True}, SOURCE, True)


def test_an_ops_host_that_has_not_run_a_check_yet_has_nothing_but_its_timer():
    found = parse(answer())
    assert (found["latest"], found["change"], found["source"], found["notification"]) == (None, None, None, None)


def test_a_damaged_file_reads_as_missing_not_as_a_crash():
    assert parse(answer('{"exit_co', "{}"))["latest"] is None


def test_the_next_check_of_a_monotonic_timer_is_turned_into_the_hosts_unix_time():
    """20239.29 s since boot, the host up 20228.68 s at 1796269696: the check is due 11 s later."""
    assert parse_timer(TIMER_SHOWN) == {"next": 1796269707, "running": False}


def test_a_realtime_elapse_is_read_as_it_is_and_a_running_check_is_said():
    assert parse_timer("NextElapseUSecRealtime=@1796263137\nActiveState=activating\n") == {"next": 1796263137, "running": True}


def test_a_timer_that_never_elapses_has_no_next_check():
    assert parse_timer(f"Monotonic=t {2 ** 64 - 1}\nUptime=5.0\nNow=100\n")["next"] is None


def test_the_ops_host_checking_against_the_operators_inventory_says_so():
    assert revision_line(SOURCE, SOURCE) == (f"checks against inventory sha256 {SOURCE[:12]}: the same as yours", True)


def test_an_ops_host_checking_against_another_inventory_names_both():
    line, same = revision_line(SOURCE, OTHER)
    assert not same and SOURCE[:12] in line and OTHER[:12] in line and "until the ops host is bootstrapped" in line


def test_the_next_check_is_given_with_its_time_and_how_to_run_one_now():
    lines = schedule_lines({"next": 1796263137, "running": False}, "vmhost1", clock=lambda: 1796263137 - 125)
    assert lines == ["next check: 2026-12-03 01:58:57 UTC (in 2 min 5 s)", "run one now: fab -H vmhost1 drift.status --now"]


def test_a_stopped_timer_is_said():
    assert schedule_lines({"next": None, "running": False}, "ops1")[0] == "no check is scheduled: the timer is not active on the ops host"


def test_the_exit_code_follows_the_last_report():
    assert [status_exit_code({"exit_code": code}) for code in (0, 1, 2, 3)] == [0, 1, 2, 3]


def test_no_report_yet_or_an_interrupted_one_is_not_a_success():
    assert (status_exit_code(None), status_exit_code({"exit_code": 130})) == (1, 1)


def test_of_several_ops_hosts_the_worst_code_counts():
    assert (worst([0, 3, 2]), worst([3, 0]), worst([2, 1]), worst([0, 0])) == (2, 3, 1, 0)


def test_a_host_checked_against_an_older_copy_shows_why_in_the_table():
    from fleetfab.scheduled.status import print_status
    from tests.unit.test_scheduled_documents import host, stale_document

    console = Console(record=True, width=200)
    print_status(console, stale_document(host("a"), host("b", "file /etc/hosts"), stale=("b",)), None)
    text = console.export_text()
    assert "copy is older than this host's last bootstrap (2026-11-22T03:00:00Z): drift not judged" in text
    assert "older than some hosts' last bootstrap (exit 3)" in text
