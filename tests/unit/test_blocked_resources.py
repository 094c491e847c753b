"""Resources waiting for a value no host could give: held back alone, never invented."""

from __future__ import annotations

from fleetfab.exports import ExportBook
from fleetfab.redact import Redactor
from fleetfab.report.model import HostReport
from fleetfab.resources import File
from fleetfab.resources.blocked import Blocked
from fleetfab.role import RoleContext, needs_exports
from fleetfab.roles.bind9 import Bind9
from tests.unit.bind9_fleet import INVENTORY

KEY_FILE = "file /etc/bind/fleetfab-keys/fleetfab-ns1.key"


def test_a_blocked_resource_without_a_copy_waits_and_says_why():
    change = Blocked("file /etc/x", "needs y").compare("blocked\n")
    assert change.action == "blocked" and change.summary == "waiting: needs y"


def test_a_kept_copy_on_the_host_is_left_as_it_is():
    resource = Blocked("file /etc/k", "ns1: connection refused", keep="/etc/k")
    assert resource.compare("kept\n") is None
    assert resource.kept_note() == "file /etc/k: current copy kept as it is (ns1: connection refused)"


def test_a_kept_copy_that_is_not_there_waits():
    assert Blocked("file /etc/k", "why", keep="/etc/k").compare("absent\n").action == "blocked"


def test_needs_exports_holds_back_only_what_it_builds():
    def build():
        yield File("/etc/a", "a\n")
        raise_missing()

    [blocked] = needs_exports(build, "file /etc/a")
    assert isinstance(blocked, Blocked) and "peer" in blocked.why


def raise_missing():
    from fleetfab.exports import MissingExport

    raise MissingExport("peer", "r", "k", "never read")


def test_a_blocked_resource_fails_its_host_without_an_error():
    report = HostReport("cp1", blocked=["wireguard: file /etc/wireguard/wg0.conf: waiting: ..."])
    assert report.status == "failed" and report.failed == 1 and report.error == ""


def secondary(inventory, book) -> RoleContext:
    return RoleContext(inventory, inventory.hosts["ns2"], "bind9", book)


def test_a_secondary_keeps_its_tsig_key_while_the_primary_cannot_be_read(load):
    inventory = load(INVENTORY)
    book = ExportBook(Redactor(), publishers=[])
    book.unreadable("ns1", "connection refused")
    resources = {r.key: r for r in Bind9().resources(secondary(inventory, book))}
    kept = resources[KEY_FILE]
    assert isinstance(kept, Blocked) and kept.keep == "/etc/bind/fleetfab-keys/fleetfab-ns1.key"
    assert isinstance(resources["file /etc/bind/named.conf.local"], File)


def test_a_secondary_notes_that_its_transfer_was_not_compared(load):
    inventory = load(INVENTORY)
    book = ExportBook(Redactor())
    book.put("ns1", "bind9", "tsig", "c2VjcmV0", secret=True)
    book.unreadable("ns1", "connection refused")
    ctx = secondary(inventory, book)
    syncs = [r for r in Bind9().resources(ctx) if r.key.startswith("secondary zone")]
    assert syncs and all(r.expected is None for r in syncs)
    assert any("transfer from ns1 not compared" in note for note in ctx.notes)
