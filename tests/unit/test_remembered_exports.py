"""Exports of hosts that cannot be read now: what is remembered, what stands in, what waits."""

from __future__ import annotations

import json

import pytest

from fleetfab.exports import ExportBook, MissingExport
from fleetfab.memory import ExportMemory, Remembered, memory_path
from fleetfab.redact import Redactor
from fleetfab.report.model import HostReport

KEY = "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA="


def book_with(memory: ExportMemory) -> ExportBook:
    return ExportBook(Redactor(), memory=memory)


def remembering(tmp_path, value=KEY) -> ExportMemory:
    return ExportMemory(tmp_path / "m.json", {("worker2", "wireguard", "public_key"): Remembered(value, "2026-11-30T10:00:00Z")})


def test_the_memory_lives_beside_the_inventory_named_after_it(tmp_path):
    assert memory_path(tmp_path / "inventory" / "lab.yml") == tmp_path / "inventory" / ".fleetfab" / "lab.exports.json"


def test_a_value_read_in_this_run_wins_over_the_remembered_one(tmp_path):
    book = book_with(remembering(tmp_path, value="old"))
    book.put("worker2", "wireguard", "public_key", KEY)
    assert book.lookup("worker2", "wireguard", "public_key") == (KEY, None)


def test_a_host_that_cannot_be_read_is_seen_as_last_read_and_says_why(tmp_path):
    book = book_with(remembering(tmp_path))
    book.unreadable("worker2", "connection refused")
    value, recalled = book.lookup("worker2", "wireguard", "public_key")
    assert value == KEY
    assert (recalled.host, recalled.read_at, recalled.why) == ("worker2", "2026-11-30T10:00:00Z", "connection refused")


def test_a_host_that_answered_without_the_value_gets_nothing_from_memory(tmp_path):
    """The host said the value is gone: memory must not invent it back."""
    book = book_with(remembering(tmp_path))
    book.missing("worker2", "wireguard", "public_key", "not present on the host yet (bootstrap it first)")
    with pytest.raises(MissingExport, match="not present on the host yet"):
        book.lookup("worker2", "wireguard", "public_key")


def test_a_host_never_read_and_not_remembered_is_missing_with_the_reason(tmp_path):
    book = book_with(ExportMemory(tmp_path / "m.json"))
    book.unreadable("worker2", "host did not answer within 5 s")
    with pytest.raises(MissingExport, match="worker2: host did not answer within 5 s; nothing remembered"):
        book.lookup("worker2", "wireguard", "public_key")


def test_secrets_are_never_remembered(tmp_path):
    memory = ExportMemory(tmp_path / "m.json")
    book = book_with(memory)
    book.put("ns1", "bind9", "tsig", "c2VjcmV0", secret=True)
    book.put("ns1", "bind9", "public", "shown")
    book.remember_fresh({"ns1"})
    text = (tmp_path / "m.json").read_text()
    assert "c2VjcmV0" not in text and "shown" in text


def test_values_true_only_now_are_not_remembered(tmp_path):
    book = book_with(ExportMemory(tmp_path / "m.json"))
    book.put("ns1", "bind9", "serials", "lab.test 2026120101", remember=False)
    book.remember_fresh({"ns1"})
    assert not (tmp_path / "m.json").exists()


def test_what_a_run_read_is_remembered_for_the_next_run(tmp_path):
    book = book_with(ExportMemory(tmp_path / "m.json"))
    book.put("worker2", "wireguard", "public_key", KEY)
    book.remember_fresh({"worker2"})
    again = ExportMemory.load(tmp_path / "m.json")
    assert again.recall("worker2", "wireguard", "public_key").value == KEY


def test_hosts_gone_from_the_inventory_are_forgotten(tmp_path):
    memory = remembering(tmp_path)
    book_with(memory).remember_fresh({"cp1"})
    assert ExportMemory.load(tmp_path / "m.json").recall("worker2", "wireguard", "public_key") is None


def test_an_unreadable_memory_file_remembers_nothing(tmp_path):
    (tmp_path / "m.json").write_text("{not json")
    assert ExportMemory.load(tmp_path / "m.json").values == {}


def test_the_report_names_each_value_taken_from_memory(tmp_path):
    book = book_with(remembering(tmp_path))
    book.unreadable("worker2", "connection refused")
    _, recalled = book.lookup("worker2", "wireguard", "public_key")
    report = HostReport("cp1", recalled=[recalled])
    document = report.as_dict(lambda text: text)
    assert document["from_memory"] == [{"host": "worker2", "role": "wireguard", "key": "public_key",
                                        "read_at": "2026-11-30T10:00:00Z", "why": "connection refused"}]
    assert KEY not in json.dumps(document)
    assert "as last read 2026-11-30T10:00:00Z (worker2: connection refused)" in recalled.describe()
