"""Benchmark figures: median with min and max, the table, the last line, round trips, targets."""

from __future__ import annotations

from bench import stats
from bench.stats import Figure, figure


def figures(fleetfab=1.0, pyinfra=6.0, ansible=20.0):
    make = lambda s: {m: Figure(s, s * 0.9, s * 1.1, 3) for m in stats.MEASUREMENTS}  # noqa: E731
    return {"fleetfab": make(fleetfab), "pyinfra": make(pyinfra), "ansible": make(ansible)}


def test_figure_is_the_median_with_min_and_max():
    f = figure([3.0, 1.0, 2.0, 10.0])
    assert (f.median, f.low, f.high, f.runs) == (2.5, 1.0, 10.0, 4)
    assert figure([]) is None
    assert f.as_dict() == {"median": 2.5, "min": 1.0, "max": 10.0, "runs": 4}


def test_the_last_line_has_the_exact_format():
    line = stats.last_line(20, figures(0.8123, 6.0, 25.456), Figure(0.6, 0.5, 0.7, 9))
    assert line == "drift N=20: fleetfab=0.81 pyinfra=6.00 ansible=25.46 floor=0.60"


def test_the_last_line_says_failed_for_a_missing_figure():
    f = figures()
    f["pyinfra"]["read-only check"] = None
    assert stats.last_line(5, f, None) == "drift N=5: fleetfab=1.00 pyinfra=failed ansible=20.00 floor=failed"


def test_a_tool_left_out_of_the_run_is_not_measured_rather_than_failed():
    f = figures()
    del f["ansible"]
    f["pyinfra"]["read-only check"] = None
    assert stats.last_line(5, f, None) == "drift N=5: fleetfab=1.00 pyinfra=failed ansible=not-measured floor=failed"
    ansible_row = next(l for l in stats.table(f, None, "direct").splitlines() if l.startswith("| ansible"))
    assert ansible_row == "| ansible | not measured | not measured | not measured |"


def test_the_table_has_a_row_per_tool_and_the_floor():
    text = stats.table(figures(), Figure(0.5, 0.4, 0.6, 3), "direct")
    rows = [l for l in text.splitlines() if l.startswith("| ")]
    assert [r.split("|")[1].strip() for r in rows] == ["tool", "fleetfab", "pyinfra", "ansible", "floor (ThreadingGroup `true`)"]
    assert "| fleetfab | 1.00 (0.90–1.10) |" in text
    assert "drift: fleetfab/floor 2.0x, pyinfra/fleetfab 6.0x, ansible/fleetfab 20.0x" in text


def test_round_trips_per_label_over_hosts():
    report = {"hosts": {
        "a": {"round_trips": {"lock": 1, "read": 1}},
        "b": {"round_trips": {"lock": 1, "read": 2}},
    }}
    trips = stats.round_trips(report)
    assert trips["per_label"] == {"lock": {"min": 1, "max": 1}, "read": {"min": 1, "max": 2}}
    assert trips["total_per_host"] == {"min": 2, "max": 3}


def test_targets_are_judged_against_the_floor_and_the_peers():
    trips = {"per_label": {"lock": {"min": 1, "max": 1}, "read": {"min": 1, "max": 1}}, "total_per_host": {"min": 2, "max": 2}}
    judged = {name: met for name, met, _ in stats.targets(figures(1.0, 4.0, 20.0), Figure(0.8, 0.7, 0.9, 3), trips, roles=2)}
    assert judged["drift within 1.5x of the floor"] is True
    assert judged["drift >= 5x faster than pyinfra"] is False
    assert judged["drift >= 10x faster than Ansible"] is True
    assert judged["drift: at most 2 SSH round trips per host per role"] is True
    missing = figures()
    missing["pyinfra"]["read-only check"] = None
    judged = {name: met for name, met, _ in stats.targets(missing, None, None, roles=2)}
    assert judged["drift >= 5x faster than pyinfra"] is None and judged["drift within 1.5x of the floor"] is None
