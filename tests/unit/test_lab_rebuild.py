"""`fab lab.rebuild` runs its stages in order, stops at the first failure, and demands a no-op second bootstrap."""

from fleetfab.lab.rebuild import StageResult, run_stages, summary, unchanged_problem


def quiet(_):
    pass


def test_stages_run_in_order_and_each_is_timed():
    seen = []
    results = run_stages([("a", lambda: seen.append("a")), ("b", lambda: seen.append("b"))], quiet)
    assert seen == ["a", "b"] and [r.name for r in results] == ["a", "b"]
    assert all(r.ok and r.seconds >= 0 for r in results)


def test_a_failed_stage_stops_the_rebuild_and_says_why():
    def boom():
        raise RuntimeError("vagrant up exited 1")
    results = run_stages([("up", boom), ("bootstrap", lambda: None)], quiet)
    assert [(r.name, r.error) for r in results] == [("up", "vagrant up exited 1")]


def test_summary_lists_every_stage_and_the_total():
    text = summary([StageResult("destroy", 1.0), StageResult("up", 2.5, "boom")])
    assert "destroy" in text and "FAILED: boom" in text and text.splitlines()[-1].split()[1] == "3.5"


def test_second_bootstrap_with_zero_changes_is_clean():
    assert unchanged_problem({"totals": {"changed": 0, "unchanged": 98, "failed": 0}}) is None


def test_second_bootstrap_with_changes_is_a_failure():
    assert "7 changed" in unchanged_problem({"totals": {"changed": 7, "unchanged": 91, "failed": 0}})


def test_second_bootstrap_with_failures_is_a_failure():
    assert "1 failed" in unchanged_problem({"totals": {"changed": 0, "unchanged": 97, "failed": 1}})


def test_a_report_without_totals_proves_nothing():
    assert unchanged_problem({}) is not None
