"""The bounded history: one file per run, named by its UTC time, the newest N kept."""

import json

from fleetfab.scheduled import history


def doc(finished: str) -> dict:
    return {"command": "drift", "finished": finished, "exit_code": 0, "hosts": {}}


def minute(n: int) -> str:
    return f"2026-11-22T03:{n:02d}:00Z"


def test_a_document_is_named_by_its_finished_time_in_utc(tmp_path):
    assert history.add(tmp_path, doc("2026-11-22T03:04:05Z")).name == "20261122T030405Z.json"


def test_the_stored_file_is_the_document(tmp_path):
    path = history.add(tmp_path, doc(minute(1)))
    assert json.loads(path.read_text()) == doc(minute(1))


def test_only_the_newest_are_kept(tmp_path):
    for n in range(5):
        history.add(tmp_path, doc(minute(n)), keep=3)
    assert [d["finished"] for d in history.load(tmp_path)] == [minute(4), minute(3), minute(2)]


def test_two_runs_in_one_second_both_stay(tmp_path):
    history.add(tmp_path, doc(minute(1)))
    history.add(tmp_path, doc(minute(1)) | {"exit_code": 2})
    assert [d["exit_code"] for d in history.load(tmp_path)] == [2, 0]


def test_the_second_run_of_a_second_sorts_after_the_first(tmp_path):
    history.add(tmp_path, doc(minute(1)))
    second = history.add(tmp_path, doc(minute(1)))
    assert history.entries(tmp_path)[0] == second


def test_a_document_without_a_time_is_still_kept(tmp_path):
    assert history.add(tmp_path, {"hosts": {}}).suffix == ".json"


def test_a_missing_folder_has_no_entries(tmp_path):
    assert history.entries(tmp_path / "none") == []


def test_load_can_stop_after_the_last_few(tmp_path):
    for n in range(4):
        history.add(tmp_path, doc(minute(n)))
    assert [d["finished"] for d in history.load(tmp_path, last=2)] == [minute(3), minute(2)]


def test_a_damaged_file_is_skipped(tmp_path):
    history.add(tmp_path, doc(minute(1)))
    (tmp_path / "20261122T039999Z.json").write_text("{half")
    assert [d["finished"] for d in history.load(tmp_path)] == [minute(1)]


def test_no_partial_file_is_left_behind(tmp_path):
    history.add(tmp_path, doc(minute(1)))
    assert [p.name for p in tmp_path.iterdir()] == ["20261122T030100Z.json"]
