"""The read-outs a host holds are exactly what the ops copy's drift asks of it, and never a secret."""

from __future__ import annotations

import base64
import hashlib

import pytest

from fleetfab.exports import ExportBook
from fleetfab.facts import batch_sections
from fleetfab.hostrun import HostRun
from fleetfab.readside.readouts import host_readouts, ops_inventory_of
from fleetfab.readside.secrets import SEALED, RecordedSecretFile, recorded_file, with_recorded_secrets
from fleetfab.redact import Redactor
from fleetfab.release import Release
from fleetfab.resources import File
from tests.unit.bind9_fleet import INVENTORY

TSIG = base64.b64encode(b"k" * 32).decode()
WG_KEY = base64.b64encode(b"w" * 32).decode()
RELEASE = Release("debian", "12", "bookworm", {})
RELEASE_ANSWER = 'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n\n@packages\n'
WITH_OPS = INVENTORY.replace("    hosts:\n", "      ops:\n        roles: [controller]\n    hosts:\n      ops1: {address: 198.18.0.70, groups: [ops]}\n", 1)


@pytest.fixture
def fleet(load):
    return load(WITH_OPS)


def operator_book() -> ExportBook:
    book = ExportBook(Redactor())
    book.put("ns1", "bind9", "tsig", TSIG, secret=True)
    book.put("ns1", "bind9", "serials", "# zone serials\nlab.test 2026120301\nexample.com 2026120301")
    for host in ("ns1", "web1"):
        book.put(host, "wireguard", "public_key", WG_KEY)
    return book


def ops_book() -> ExportBook:
    """The ops copy's: the same public values, the secret sealed (fleetfab.runner)."""
    book = operator_book()
    book.seal("ns1", "bind9", "tsig", SEALED)
    return book


class _Quiet:
    def step(self, *_):
        pass


class _Gone:
    connected = False


class _NoRecorded:
    def recorded(self):
        return {}


def sections_sent(fleet, name: str) -> list[str]:
    """The texts of every section the ops copy's drift of host `name` sends (its answers all empty)."""
    ops = ops_inventory_of(fleet)
    run = HostRun(ops, ops.hosts[name], ops.roles, Redactor(), _Quiet(), apply=False)
    run.reader = _NoRecorded()
    run.remote = _Gone()
    sent = []

    def read(label, probes):
        sent.extend(text for _, text in batch_sections(probes))
        return ([RELEASE_ANSWER] if not run.release else [""]) + [""] * (len(probes) - (0 if run.release else 1))

    run.read = read
    book = ops_book()
    run.prepare(book)
    run.converge(book)
    return sent


@pytest.mark.parametrize("name", ["ns1", "ns2", "web1", "ops1"])
def test_every_section_the_ops_copys_drift_sends_is_installed(fleet, name):
    installed, _ = host_readouts(fleet, name, operator_book(), RELEASE)
    sent = sections_sent(fleet, name)
    assert sent and {hashlib.sha256(t.encode()).hexdigest() for t in sent} <= set(installed)


def test_no_read_out_reads_a_secret_export(fleet):
    from fleetfab.roles.bind9 import key_file
    from fleetfab.roles.bind9.__init__ import secret_of

    installed, _ = host_readouts(fleet, "ns1", operator_book(), RELEASE)
    secret_read = secret_of(key_file(fleet.hosts["ns1"]))
    assert not any(secret_read in r.text for r in installed.values())


def test_the_digest_of_a_secret_file_is_recorded_from_the_operators_content(fleet):
    from fleetfab.roles.bind9 import key_file

    _, secrets = host_readouts(fleet, "ns2", operator_book(), RELEASE)
    assert list(secrets) == [key_file(fleet.hosts["ns1"])]
    assert TSIG not in repr(secrets)


def test_each_read_out_says_which_role_reads_what(fleet):
    installed, _ = host_readouts(fleet, "ns2", operator_book(), RELEASE)
    described = {(r.role, r.what) for r in installed.values()}
    assert ("fleetfab", "release and package versions") in described
    assert ("bind9", "service named") in described or any(role == "(shared)" and "named" in what for role, what in described)


def secret_answer(content: str, meta: str = "root bind 640") -> str:
    return f"{meta}\n{hashlib.sha256(content.encode()).hexdigest()}  -\n"


def test_a_secret_file_is_unchanged_when_its_digest_is_the_recorded_one():
    stated = File("/etc/bind/keys/ns1.key", SEALED, group="bind", mode="0640", secret=True)
    compared = recorded_file(stated, hashlib.sha256(b"the real key\n").hexdigest())
    assert compared.compare(secret_answer("the real key\n")) is None


def test_a_hand_edited_secret_file_is_drift_without_its_content():
    stated = File("/etc/bind/keys/ns1.key", SEALED, group="bind", mode="0640", secret=True)
    change = recorded_file(stated, hashlib.sha256(b"the real key\n").hexdigest()).compare(secret_answer("edited\n"))
    assert change.summary == "content" and change.diff == "(secret content, not shown)"


def test_a_secret_file_keeps_its_owner_and_mode_compared():
    stated = File("/etc/bind/keys/ns1.key", SEALED, group="bind", mode="0640", secret=True)
    change = recorded_file(stated, hashlib.sha256(b"k\n").hexdigest()).compare(secret_answer("k\n", "root root 644"))
    assert "owner root:root -> root:bind" in change.summary and "mode 644 -> 640" in change.summary


def test_only_secret_files_are_compared_by_recorded_digest():
    plain, secret = File("/etc/a", "a\n"), File("/etc/b", "b\n", secret=True)
    replaced = with_recorded_secrets([plain, secret], {"/etc/b": "0" * 64})
    assert replaced[0] is plain and isinstance(replaced[1], RecordedSecretFile) and replaced[1].digest == "0" * 64


def test_a_sealed_export_reads_as_its_stand_in():
    book = ExportBook(Redactor())
    book.seal("ns1", "bind9", "tsig", SEALED)
    assert book.get("ns1", "bind9", "tsig") == SEALED
