"""Text from hosts never reaches the terminal, a log or the journal raw: control characters are written out.

A managed file, a command's error, a note or a journal line can carry a
clipboard write (OSC 52), a screen clear (CSI 2J), a carriage return that
hides what came before, or a newline that forges a line of a log. Each way
such text is shown is held here to show `\\x1b`, `\\x07` ... instead.
"""

from __future__ import annotations

import io
import json

from rich.console import Console

from fleetfab import journal
from fleetfab.cli.commands import history_table
from fleetfab.errors import command_message, describe_error
from fleetfab.report.model import APPLIED, ChangeRecord, HostReport
from fleetfab.report.render import changes_table, print_blocked, print_diffs, print_errors
from fleetfab.report.views import PlainView
from fleetfab.resources import File
from fleetfab.resources.base import Change
from fleetfab.text import one_line, printable

EVIL = "\x1b]52;c;ZXZpbA==\x07\x1b[2J"
SHOWN = "\\x1b]52;c;ZXZpbA==\\x07\\x1b[2J"


def rendered(draw) -> str:
    """What a console on a terminal receives, less rich's own styling."""
    out = io.StringIO()
    console = Console(file=out, width=300, force_terminal=False, color_system=None, highlight=False)
    draw(console)
    return out.getvalue()


def no_raw_controls(text: str) -> bool:
    return not any(ord(c) < 32 and c not in "\n" or 0x7f <= ord(c) <= 0x9f for c in text)


# -- the shared function ------------------------------------------------------------


def test_printable_writes_out_escapes_and_keeps_lines_and_tabs():
    assert printable(f"a\t{EVIL}\nb\r\n") == f"a\t{SHOWN}\nb\\x0d\n"


def test_printable_writes_out_c1_controls_and_direction_overrides():
    assert printable("\x9b2J \u202eevil\u202c") == "\\x9b2J \\u202eevil\\u202c"


def test_one_line_writes_out_newlines_too():
    assert one_line("fine\n[worker2] ok\tdone") == "fine\\x0a[worker2] ok\\x09done"


def test_printing_twice_changes_nothing_more():
    assert printable(printable(EVIL)) == printable(EVIL) == SHOWN
    assert one_line(one_line("a\nb")) == "a\\x0ab"


def test_ordinary_text_is_left_as_it_is():
    text = "Größe: 5 MiB — ok ✓ [bold]\n"
    assert printable(text) == text


# -- reports ----------------------------------------------------------------------------


def drifted(diff: str = "", summary: str = "content", error: str = "", notes=()) -> HostReport:
    report = HostReport("worker1", error=error, notes=list(notes))
    report.changes.append(ChangeRecord("base", Change("file /etc/hosts", "update", summary, diff)))
    return report


def test_a_diff_of_a_file_holding_escapes_shows_them_written_out_line_by_line():
    host_content = f"127.0.0.1 localhost\n{EVIL}\n"
    diff = File("/etc/hosts", "127.0.0.1 localhost\n")._diff(host_content)
    shown = rendered(lambda c: print_diffs(c, [drifted(diff)], lambda t: t))
    assert f"-{SHOWN}\n" in shown and " 127.0.0.1 localhost\n" in shown
    assert no_raw_controls(shown)


def test_errors_notes_and_blocked_resources_are_one_line_each_written_out():
    report = drifted(error=f"failed: {EVIL}\nworker2: ok", notes=[f"base: note {EVIL}"])
    report.blocked.append(f"wireguard: peer {EVIL}")
    shown = rendered(lambda c: (print_errors(c, [report], lambda t: t), print_blocked(c, [report], lambda t: t)))
    assert f"worker1: failed: {SHOWN}\\x0aworker2: ok\n" in shown
    assert f"note {SHOWN}" in shown and f"peer {SHOWN}" in shown
    assert no_raw_controls(shown)


def test_a_change_summary_from_a_host_is_written_out_in_the_drift_table():
    shown = rendered(lambda c: c.print(changes_table([drifted(summary=f"owner {EVIL}:root -> root:root")], lambda t: t, "drift")))
    assert SHOWN in shown and no_raw_controls(shown)


def test_host_text_is_never_read_as_markup():
    shown = rendered(lambda c: print_errors(c, [drifted(error="[link=https://example.com]click[/link] [bold]x")], lambda t: t))
    assert "[link=https://example.com]click[/link] [bold]x" in shown


def test_the_plain_log_gets_one_line_per_step_whatever_the_host_said():
    out = io.StringIO()
    PlainView(out).finish("worker1", drifted(error=f"boom\n[worker2] ok {EVIL}", notes=["a\rb"]))
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("[worker1] failed") and f"boom\\x0a[worker2] ok {SHOWN}" in lines[0]
    assert lines[1] == "[worker1] note: a\\x0db"
    assert no_raw_controls(out.getvalue())


# -- errors, the journal, history --------------------------------------------------------


def test_a_commands_error_line_is_written_out_and_shortened():
    assert command_message(f"E: broken {EVIL}\n") == f"E: broken {SHOWN}"
    long = command_message("error: " + "x" * 10_000)
    assert len(long) < 2100 and long.endswith("[...]")


def test_a_failure_described_from_a_hosts_words_is_written_out():
    assert describe_error(RuntimeError(f"remote said {EVIL}")) == f"remote said {SHOWN}"


def test_journal_lines_carry_summaries_written_out():
    report = drifted(summary=f"owner {EVIL}:root -> root:root")
    report.changes[0].status = APPLIED
    line = journal.entry(report, "bootstrap", "/nonexistent/inventory.yml", lambda t: t)
    assert line["changes"][0]["summary"] == f"owner {SHOWN}:root -> root:root"


def test_history_shows_a_hostile_journal_written_out_and_as_text():
    entries = journal.newest_first("\n".join([
        json.dumps({"at": f"2026 {EVIL}", "who": "[red]root[/red]", "command": "bootstrap\nforged",
                    "inventory": {"git_commit": "abc"}, "changes": [{"role": "base", "resource": EVIL, "summary": "x"}]}),
        json.dumps(["not", "a", "mapping"]),
        json.dumps({"changes": "not a list", "inventory": 5}),
    ]))
    shown = rendered(lambda c: c.print(history_table("worker1", entries)))
    assert SHOWN in shown and "[red]root[/red]" in shown and "bootstrap\\x0aforged" in shown
    assert no_raw_controls(shown)


def test_drift_status_shows_the_ops_hosts_documents_written_out():
    from fleetfab.scheduled.status import print_status

    latest = {"finished": "2026-12-02T00:00:00Z", "exit_code": 1, "error": f"check failed {EVIL}",
              "hosts": {"worker1": {"status": "failed", "error": f"{EVIL}\n[worker2] ok", "changes": []}}}
    shown = rendered(lambda c: print_status(c, latest, None))
    assert f"check failed {SHOWN}" in shown and f"{SHOWN}\\x0a" in shown
    assert no_raw_controls(shown)
