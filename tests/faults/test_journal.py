"""The journal on a lab host: a bootstrap's changes are there, a no-change bootstrap adds nothing."""

from __future__ import annotations

import json

from fleetfab.journal import PATH
from tests.faults.conftest import WORK_PACKAGE

HOST = "worker1"


def lines(lab) -> list[str]:
    return lab.sh(HOST, f"cat {PATH} 2>/dev/null || true").splitlines()


def test_a_bootstrap_that_changed_the_host_is_in_its_journal_and_in_fab_history(lab):
    lab.give_work(HOST)
    code, run = lab.fab("-H", HOST, "bootstrap")
    assert code == 0, run.output
    last = json.loads(lines(lab)[-1])
    assert any(WORK_PACKAGE in c["summary"] for c in last["changes"]) and last["command"] == "bootstrap"
    code, shown = lab.fab("-H", HOST, "history", report=False)
    assert code == 0 and WORK_PACKAGE in shown.output


def test_a_bootstrap_that_changed_nothing_adds_no_line(lab):
    before = lines(lab)
    code, run = lab.fab("-H", HOST, "bootstrap")
    assert code == 0 and lines(lab) == before, run.output
