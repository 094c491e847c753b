"""The engine against real sshd servers: converge, stay converged, see drift, stay safe."""

from __future__ import annotations

import dataclasses
import json
import os

import pytest

from fleetfab.cli.commands import drift_exit_code
from fleetfab.redact import Redactor
from fleetfab.remote import Remote
from fleetfab.report.jsonfile import report_document
from fleetfab.report.views import PlainView
from fleetfab.runner import RunOptions, run_fleet
from fleetfab.session import HostSession
from fleetfab.ssh import connect
from tests.integration.conftest import ROLES

pytestmark = pytest.mark.integration


def run(inventory, apply=True, hosts=None):
    selected = inventory.select(hosts)
    options = RunOptions(apply=apply, purpose="bootstrap" if apply else "drift", parallel=4)
    return run_fleet(inventory, selected, options, PlainView(), roles=ROLES)


def by_host(result):
    return {r.host: r for r in result.reports}


def test_bootstrap_converges_every_host(fleet, tmp_path):
    result = run(fleet())
    reports = by_host(result)
    assert {r.status for r in reports.values()} == {"changed"}, [r.error for r in reports.values()]
    assert (tmp_path / "alpha/etc/app.conf").read_text() == "greeting = hello\n"
    assert (tmp_path / "alpha/etc/list.conf").read_text() == "enabled = yes\n"
    assert (tmp_path / "alpha/marker").exists()


def test_second_bootstrap_changes_nothing(fleet):
    inventory = fleet()
    run(inventory)
    again = run(inventory)
    assert [(r.host, r.changed, r.failed) for r in again.reports] == [("alpha", 0, 0), ("beta", 0, 0)]
    assert all(r.unchanged > 0 for r in again.reports)


def test_exports_from_one_host_reach_the_others(fleet, tmp_path):
    run(fleet())
    peers = (tmp_path / "alpha/etc/peers").read_text().split()
    assert len(peers) == 2 and any("alpha" in p for p in peers) and any("beta" in p for p in peers)


def test_handler_runs_once_and_only_when_notified(fleet, tmp_path):
    run(fleet())
    run(fleet())
    assert (tmp_path / "alpha/handler.log").read_text() == "reloaded\n"
    run(fleet(greeting="bonjour"))
    assert (tmp_path / "alpha/handler.log").read_text() == "reloaded\nreloaded\n"


def test_drift_sees_a_file_edited_by_hand_and_shows_its_diff(fleet, tmp_path):
    inventory = fleet()
    run(inventory)
    (tmp_path / "beta/etc/app.conf").write_text("greeting = edited by hand\n")
    result = run(inventory, apply=False)
    reports = by_host(result)
    assert reports["alpha"].changes == []
    [record] = reports["beta"].changes
    assert record.change.resource.endswith("beta/etc/app.conf")
    assert "-greeting = edited by hand" in record.change.diff and "+greeting = hello" in record.change.diff
    assert drift_exit_code(result.reports) == 2


def test_drift_changes_nothing_on_the_host(fleet, tmp_path):
    inventory = fleet()
    run(inventory)
    (tmp_path / "alpha/etc/list.conf").write_text("enabled = no\n")
    (tmp_path / "alpha/marker").unlink()
    result = run(inventory, apply=False)
    assert len(by_host(result)["alpha"].changes) == 2
    assert (tmp_path / "alpha/etc/list.conf").read_text() == "enabled = no\n"
    assert not (tmp_path / "alpha/marker").exists()


def test_clean_fleet_has_drift_exit_code_zero(fleet):
    inventory = fleet()
    run(inventory)
    assert drift_exit_code(run(inventory, apply=False).reports) == 0


def test_a_file_that_fails_validation_is_not_installed(fleet, tmp_path):
    run(fleet())
    result = run(fleet(greeting="hello, changed"), hosts="alpha")
    # the rendered file still passes the grep validator; break the validator instead
    assert by_host(result)["alpha"].status in ("changed", "ok")
    before = (tmp_path / "alpha/etc/app.conf").read_text()
    from tests.integration import sandbox_role

    original = sandbox_role.Sandbox.resources

    def broken(self, ctx):
        for resource in original(self, ctx):
            if resource.key.endswith("app.conf"):
                resource = type(resource)(resource.path, "nonsense\n", validate="grep -q '^greeting' %s")
            yield resource

    sandbox_role.Sandbox.resources = broken
    try:
        result = run(fleet(), hosts="alpha")
    finally:
        sandbox_role.Sandbox.resources = original
    report = by_host(result)["alpha"]
    assert report.status == "failed"
    assert "validation failed" in report.changes[-1].error
    assert (tmp_path / "alpha/etc/app.conf").read_text() == before


def test_secrets_never_appear_in_plans_or_json(fleet, tmp_path):
    run(fleet(token="first-secret-token-41"))
    result = run(fleet(token="very-secret-token-42"), apply=False)
    document = json.dumps(report_document("drift", result.reports, result.redact, 2))
    assert "very-secret-token-42" not in document and "first-secret-token-41" not in document
    assert "secret content, not shown" in document


def test_secret_files_are_written_with_their_mode(fleet, tmp_path):
    run(fleet(token="very-secret-token-42"))
    token = tmp_path / "alpha/etc/token"
    assert token.read_text() == "very-secret-token-42\n"
    assert oct(token.stat().st_mode & 0o777) == "0o600"


def test_drift_before_the_first_bootstrap_is_an_error_not_a_guess(fleet):
    result = run(fleet(), apply=False)
    assert all("not present on the host yet" in r.error for r in result.reports)
    assert drift_exit_code(result.reports) == 1


def test_unknown_host_key_is_refused(fleet, tmp_path):
    result = run(fleet(known=False))
    for report in result.reports:
        assert "unknown host key" in report.error
    assert not (tmp_path / "alpha").exists()


def test_trust_on_first_use_records_the_key(fleet, tmp_path):
    result = run(fleet(known=False, trust_on_first_use=True))
    assert all(r.status == "changed" for r in result.reports)
    assert (tmp_path / "known_hosts").read_text().count("ssh-ed25519") == 2


def test_a_changed_host_key_is_refused_even_with_trust_on_first_use(fleet, tmp_path, sshd):
    inventory = fleet(trust_on_first_use=True)
    other = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMzHfmiU9CqGOqFSmDYvzzsP4J9oBdrFJmTeZqY2Hnq6"
    (tmp_path / "known_hosts").write_text(f"[127.0.0.1]:{sshd['ports'][0]} {other}\n")
    result = run(inventory)
    assert "host key CHANGED" in by_host(result)["alpha"].error


def test_a_second_run_is_refused_while_the_lock_is_held(fleet, tmp_path):
    inventory = fleet()
    host = inventory.hosts["alpha"]
    remote = Remote("alpha", connect(host, inventory.ssh), Redactor(), sudo=False)
    holder = HostSession(remote, exclusive=True, purpose="bootstrap")
    holder.acquire()
    try:
        result = run(inventory, hosts="alpha")
    finally:
        holder.release()
        remote.close()
    error = by_host(result)["alpha"].error
    assert "another fleetfab run holds the lock" in error and "bootstrap by" in error
    assert not (tmp_path / "alpha/etc").exists()


def unreachable(inventory, name):
    """The inventory with one host's SSH port pointing at nothing."""
    inventory.hosts[name] = dataclasses.replace(inventory.hosts[name], port=1)
    return inventory


def test_one_unreachable_host_does_not_stop_the_others(fleet, tmp_path):
    result = run(unreachable(fleet(), "beta"), hosts="alpha,beta")
    reports = by_host(result)
    assert reports["beta"].status == "failed" and reports["beta"].error == "connection refused"
    assert (tmp_path / "alpha-early").exists()


def test_a_peer_down_now_is_seen_as_it_was_last_read(fleet, tmp_path):
    run(fleet())
    peers_before = (tmp_path / "alpha/etc/peers").read_text()
    result = run(unreachable(fleet(greeting="bonjour"), "beta"), hosts="alpha,beta")
    alpha = by_host(result)["alpha"]
    assert alpha.status == "changed" and alpha.error == ""
    assert (tmp_path / "alpha/etc/app.conf").read_text() == "greeting = bonjour\n"
    assert (tmp_path / "alpha/etc/peers").read_text() == peers_before
    assert [(r.host, r.key, r.why) for r in alpha.recalled] == [("beta", "identity", "connection refused")]


def test_a_drift_with_a_peer_down_still_checks_every_other_host(fleet):
    inventory = fleet()
    run(inventory)
    result = run(unreachable(fleet(), "beta"), apply=False)
    alpha = by_host(result)["alpha"]
    assert alpha.error == "" and alpha.changes == [] and alpha.recalled
    assert drift_exit_code(result.reports) == 1


def test_a_role_needing_an_unreadable_peer_stops_its_host_after_the_roles_before_it(fleet, tmp_path):
    result = run(unreachable(fleet(), "beta"), hosts="alpha,beta")
    alpha = by_host(result)["alpha"]
    assert alpha.error.startswith("sandbox: sandbox value 'identity' of host beta is not available: "
                                  "beta: connection refused; nothing remembered from an earlier run")
    assert (tmp_path / "alpha-early").read_text() == "early\n"
    assert not (tmp_path / "alpha" / "etc").exists()


def test_drift_reads_a_converged_host_in_two_round_trips_the_first_carrying_the_lock(fleet):
    inventory = fleet()
    run(inventory)
    result = run(inventory, apply=False)
    for report in result.reports:
        assert report.round_trips == {"read": 2}


def test_drift_opens_one_channel_per_host(fleet, monkeypatch):
    inventory = fleet()
    run(inventory)
    opened = []
    original = Remote.open_channel
    monkeypatch.setattr(Remote, "open_channel", lambda self, command, *rest: opened.append(self.name) or original(self, command, *rest))
    run(inventory, apply=False)
    assert sorted(opened) == ["alpha", "beta"]


def test_a_locked_host_still_publishes_what_it_read_to_its_peers(fleet):
    inventory = fleet()
    run(inventory)
    host = inventory.hosts["alpha"]
    remote = Remote("alpha", connect(host, inventory.ssh), Redactor(), sudo=False)
    holder = HostSession(remote, exclusive=True, purpose="bootstrap")
    holder.acquire()
    try:
        result = run(inventory)
    finally:
        holder.release()
        remote.close()
    assert "another fleetfab run holds the lock" in by_host(result)["alpha"].error
    assert by_host(result)["beta"].error == ""


def test_handlers_of_applied_changes_run_even_when_a_later_change_fails(fleet, tmp_path, monkeypatch):
    from tests.integration import sandbox_role

    run(fleet())
    (tmp_path / "alpha/etc/list.conf").write_text("enabled = no\n")
    original = sandbox_role.Sandbox.resources

    def failing_late(self, ctx):
        for resource in original(self, ctx):
            if resource.key.startswith("line"):
                resource = type(resource)(resource.path, resource.line, match="(")  # a broken regex
            yield resource

    monkeypatch.setattr(sandbox_role.Sandbox, "resources", failing_late)
    (tmp_path / "alpha/marker").unlink()
    result = run(fleet(greeting="changed"), hosts="alpha")
    report = by_host(result)["alpha"]
    assert [c.status for c in report.changes] == ["applied", "failed", "skipped"]
    assert report.handlers == ["reload app"]
    assert (tmp_path / "alpha/handler.log").read_text() == "reloaded\nreloaded\n"


def test_an_interrupted_bootstrap_starts_no_change_and_releases_its_locks(fleet):
    inventory = fleet()
    options = RunOptions(apply=True, purpose="bootstrap", parallel=4)
    options.stop.set()
    result = run_fleet(inventory, inventory.select(None), options, PlainView(), roles=ROLES)
    for report in result.reports:
        assert report.error.startswith("interrupted before ") and report.changed == 0
    assert all(r.error == "" for r in run(inventory).reports)


def journal_of(inventory, name: str) -> list[dict]:
    from fleetfab import journal

    remote = Remote(name, connect(inventory.hosts[name], inventory.ssh), Redactor(), sudo=False)
    try:
        return journal.newest_first(remote.run(journal.read_script(100), "test", "read the journal").stdout)
    finally:
        remote.close()


def test_a_bootstrap_that_changed_a_host_leaves_its_changes_in_the_hosts_journal(fleet):
    inventory = fleet()
    run(inventory)
    entry = journal_of(inventory, "alpha")[0]
    resources = {c["resource"] for c in entry["changes"]}
    assert "file " + str(inventory.hosts["alpha"].settings("sandbox")["root"]) + "/etc/app.conf" in resources
    assert entry["command"] == "bootstrap" and entry["inventory"]["sha256"] and "@" in entry["who"]


def test_a_bootstrap_that_changed_nothing_adds_nothing_to_the_journal(fleet):
    inventory = fleet()
    run(inventory)
    before = journal_of(inventory, "alpha")
    run(inventory)
    assert journal_of(inventory, "alpha") == before


def test_the_journal_never_holds_a_secret(fleet):
    inventory = fleet(token="journal-secret-token-value")
    run(inventory)
    assert "journal-secret-token-value" not in json.dumps(journal_of(inventory, "alpha"))


def test_a_local_file_is_copied_byte_for_byte_and_then_left_alone(fleet, tmp_path):
    payload = tmp_path / "payload.src"
    payload.write_bytes(os.urandom(3 << 20))
    inventory = fleet(payload=payload)
    run(inventory)
    copied = tmp_path / "alpha" / "payload.bin"
    assert copied.read_bytes() == payload.read_bytes()
    assert oct(copied.stat().st_mode & 0o777) == "0o640"
    assert by_host(run(inventory))["alpha"].changed == 0


def test_drift_sees_a_copied_file_changed_by_hand(fleet, tmp_path):
    payload = tmp_path / "payload.src"
    payload.write_bytes(b"version one\n")
    inventory = fleet(payload=payload)
    run(inventory)
    (tmp_path / "alpha" / "payload.bin").write_bytes(b"edited\n")
    summaries = [c.change.summary for c in by_host(run(inventory, apply=False))["alpha"].changes]
    assert summaries == ["copy payload.src (12 B): content differs"]


def test_a_copy_that_arrives_damaged_is_never_installed(fleet, tmp_path, monkeypatch):
    payload = tmp_path / "payload.src"
    payload.write_bytes(b"the real content\n")
    inventory = fleet(payload=payload)
    real_send = Remote.send

    def send_truncated(self, local, staged, label):
        short = tmp_path / "short"
        short.write_bytes(b"the real")
        real_send(self, short, staged, label)

    monkeypatch.setattr(Remote, "send", send_truncated)
    report = by_host(run(inventory))["alpha"]
    assert report.status == "failed"
    assert report.reason.endswith("payload.bin arrived damaged (SHA-256 differs); the file was left as it was")
    assert not (tmp_path / "alpha" / "payload.bin").exists()
