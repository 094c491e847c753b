"""The read program on a host: it answers only installed read-outs, refuses the rest, and logs both."""

from __future__ import annotations

import fcntl
import json
import os

import pytest

from fleetfab.facts import new_boundary, sections_of
from fleetfab.readside import program_digest, program_text
from tests.unit.readside_program import ReadHost, answers, digest


@pytest.fixture
def host(tmp_path):
    found = ReadHost(tmp_path)
    yield found
    found.close()


def read_request(boundary, *pairs):
    return {"op": "read", "boundary": boundary, "sections": [list(p) for p in pairs]}


def test_installed_read_outs_answer_framed_as_a_batch(host):
    names = host.install({"files: sshd's configuration": "echo first", "units: named": "echo second"})
    boundary = new_boundary()
    (header, body), = answers(host.ask(read_request(boundary, ("0", names["echo first"]), ("1", names["echo second"]))))
    assert header["ok"] is True
    assert sections_of(body.decode(), boundary) == {"0": "first\n", "1": "second\n", "end": ""}


def test_text_sent_in_a_request_is_never_run(host, tmp_path):
    host.install(["echo installed"])
    planted = tmp_path / "planted"
    (header, _), = answers(host.ask(read_request(new_boundary(), ("0", f"touch {planted}"))))
    assert "refused" in header and not planted.exists()


def test_a_read_out_not_installed_is_refused_as_not_installed(host):
    host.install(["echo installed"])
    (header, _), = answers(host.ask(read_request(new_boundary(), ("0", digest("echo other")))))
    assert "is not installed here" in header["refused"]


def test_a_request_outside_the_vocabulary_is_refused_and_logged(host):
    host.install(["echo installed"])
    (header, _), = answers(host.ask({"op": "shell", "command": "id"}))
    assert "not one this program answers" in header["refused"]
    assert any("fleetfab-read[" in line and "refused" in line and "'shell'" in line for line in host.logged())


def test_a_line_that_is_not_json_is_refused_and_the_next_request_answered(host):
    names = host.install(["echo installed"])
    output = host.ask(b"id; sudo -n id", read_request(new_boundary(), ("0", names["echo installed"])))
    (first, _), (second, _) = answers(output)
    assert "not one JSON line" in first["refused"] and second["ok"] is True


def test_arguments_are_refused_before_anything_is_read(host):
    host.install(["echo installed"])
    (header, _), = answers(host.ask({"op": "recorded"}, args=("-c", "id")))
    assert "takes none" in header["refused"]


def test_every_read_is_logged_with_the_role_and_what_it_reads(host):
    names = host.install({"bind9: file /etc/bind/named.conf.local": "echo zone"})
    host.ask(read_request(new_boundary(), ("0", names["echo zone"])))
    logged = host.logged()
    assert any("read 1 read-outs: bind9: file /etc/bind/named.conf.local" in line for line in logged)
    assert all(line.startswith("<86>") for line in logged)  # authpriv.info


def test_a_boundary_of_another_shape_is_refused(host):
    names = host.install(["echo installed"])
    (header, _), = answers(host.ask(read_request("FLEETFAB-x; id", ("0", names["echo installed"]))))
    assert "boundary" in header["refused"]


def test_a_label_of_another_shape_is_refused(host):
    names = host.install(["echo installed"])
    (header, _), = answers(host.ask(read_request(new_boundary(), ("0; id", names["echo installed"]))))
    assert "label" in header["refused"]


def test_a_read_out_whose_text_does_not_match_its_name_refuses_everything(host):
    host.install(["echo installed"])
    manifest = host.store / "readouts.json"
    document = json.loads(manifest.read_text())
    entry = next(iter(document["readouts"].values()))
    entry["text"] = "echo tampered"
    manifest.write_text(json.dumps(document))
    (header, _), = answers(host.ask({"op": "recorded"}))
    assert "does not match its name" in header["refused"]


def test_read_outs_another_account_can_write_are_refused(host):
    host.install(["echo installed"], mode=0o666)
    (header, _), = answers(host.ask({"op": "recorded"}))
    assert "root's own file" in header["refused"]


def test_a_store_others_can_enter_is_refused(host):
    host.install(["echo installed"])
    os.chmod(host.store, 0o755)
    (header, _), = answers(host.ask({"op": "recorded"}))
    assert "root's alone" in header["refused"]


def test_recorded_answers_digests_of_secret_files_only(host):
    recorded = {"/etc/bind/keys/ns1.key": digest("secret content")}
    host.install(["echo installed"], secrets=recorded)
    (header, _), = answers(host.ask({"op": "recorded"}))
    assert header["secrets"] == recorded


def test_run_answers_one_read_out_with_its_exit_status_and_error_output(host):
    names = host.install(["echo keys; echo oops >&2; exit 3"])
    (header, body), = answers(host.ask({"op": "run", "readout": names["echo keys; echo oops >&2; exit 3"]}))
    assert header["exit"] == 3 and body == b"keys\noops\n" and header["stderr_bytes"] == 5


def test_the_lock_is_taken_shared(host):
    host.install(["echo installed"])
    (header, _), = answers(host.ask({"op": "lock"}))
    assert header == {"ok": True}


def test_an_exclusive_lock_is_refused(host):
    host.install(["echo installed"])
    (header, _), = answers(host.ask({"op": "lock", "mode": "exclusive"}))
    assert "only a shared lock" in header["refused"]


def test_the_lock_held_by_a_changing_run_answers_busy_with_its_holder(host):
    host.install(["echo installed"])
    host.locks.mkdir(mode=0o700)
    (host.locks / "holder").write_text("bootstrap by ops@laptop\n")
    with open(host.locks / "lock", "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        (header, _), = answers(host.ask({"op": "lock"}))
    assert header == {"busy": "bootstrap by ops@laptop"}


def test_the_program_digest_is_the_sha256_of_its_bytes():
    import hashlib

    assert program_digest() == hashlib.sha256(program_text().encode()).hexdigest()


def test_a_request_longer_than_the_bound_is_refused_and_the_next_one_answered(host):
    names = host.install(["echo installed"])
    long = b'{"op": "' + b"x" * (3 << 20) + b'"}'
    output = host.ask(long, read_request(new_boundary(), ("0", names["echo installed"])))
    (first, _), (second, _) = answers(output)
    assert "longer than" in first["refused"] and second["ok"] is True
