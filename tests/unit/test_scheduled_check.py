"""The drift child's time limit: interrupted first, so drift can still write its report; killed only if it must be."""

import signal
import sys

import pytest

from fleetfab.scheduled.check import DidNotFinish, child_command, exit_status, interruptible, run_child


#: long enough for a loaded machine's Python to start and reach the child's
#: own handling of SIGINT; an interrupt before that would test startup instead
LIMIT = 3.0


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_the_child_is_the_same_python_running_the_drift_module(tmp_path):
    assert child_command(tmp_path / "d.json") == [sys.executable, "-m", "fleetfab.scheduled.check", str(tmp_path / "d.json")]


def test_the_childs_exit_code_is_returned(tmp_path):
    assert run_child(tmp_path / "d.json", command=python("raise SystemExit(2)")) == 2


def test_a_child_past_its_time_limit_is_interrupted_and_may_still_finish(tmp_path):
    code = ("import sys, time\nfrom fleetfab.scheduled.check import interruptible\ninterruptible()\n"
            "try:\n    time.sleep(30)\nexcept KeyboardInterrupt:\n    sys.exit(130)")
    assert run_child(tmp_path / "d.json", timeout=LIMIT, command=python(code)) == 130


def test_a_child_that_ignores_the_interrupt_is_killed(tmp_path):
    code = "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\ntime.sleep(30)"
    with pytest.raises(DidNotFinish):
        run_child(tmp_path / "d.json", timeout=LIMIT, grace=0.5, command=python(code))


def test_a_child_ended_by_a_signal_reports_as_a_shell_would():
    assert exit_status(-2) == 130


def test_the_drift_child_hears_the_interrupt_even_when_started_with_it_ignored():
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        interruptible()
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, before)
