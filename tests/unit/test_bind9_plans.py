"""Bind9 plans from canned host state: what changes, which serial, and what is never shown."""

from __future__ import annotations

import base64
from datetime import date

import pytest

from fleetfab.exports import ExportBook
from fleetfab.redact import Redactor
from fleetfab.role import RoleContext
from fleetfab.roles.bind9 import Bind9
from fleetfab.roles.bind9.fleet import fleet_zones
from fleetfab.roles.bind9.resources import SecondarySync, ZoneFile, ZoneGuard
from fleetfab.roles.bind9.zonedata import zone_content
from fleetfab.roles.bind9.zonefile import render_zone, serial_of
from tests.unit.bind9_fleet import INVENTORY

TODAY = date(2026, 11, 22)
SECRET = "c2VjcmV0LXRzaWcta2V5LW5ldmVyLXRvLWJlLXByaW50ZWQ="


@pytest.fixture
def inventory(load):
    return load(INVENTORY)


@pytest.fixture
def zone(inventory):
    return zone_content(inventory, fleet_zones(inventory)["lab.test"])


def probe_output(text: str | None, served: int | None = None, meta: str = "root bind 644") -> str:
    """What ZoneFile's probe prints: file metadata and content, then named's serial."""
    head = "absent\n\n" if text is None else f"{meta}\n{base64.b64encode(text.encode()).decode()}\n"
    return head + (f"{served}\n" if served is not None else "")


def zone_file(zone) -> ZoneFile:
    return ZoneFile(zone, "/etc/bind/zones/lab.test.zone", TODAY)


def new_serial(change) -> int:
    return serial_of(change.data[0])


def test_an_unchanged_zone_keeps_its_serial(zone):
    on_host = render_zone(zone, 2026010307)
    assert zone_file(zone).compare(probe_output(on_host, served=2026010307)) is None


def test_a_new_zone_gets_todays_first_serial(zone):
    change = zone_file(zone).compare(probe_output(None))
    assert change.action == "create" and new_serial(change) == 2026112200


def test_changed_content_bumps_the_serial(zone):
    on_host = render_zone(zone, 2026112204).replace("198.18.0.41", "198.18.0.42")
    change = zone_file(zone).compare(probe_output(on_host, served=2026112204))
    assert change.action == "update" and new_serial(change) == 2026112205
    assert "-mail1                   IN A     198.18.0.42" in change.diff


def test_a_hand_edited_zone_is_drift_with_its_diff(zone):
    on_host = render_zone(zone, 2026112201) + "rogue IN A 198.18.0.66\n"
    change = zone_file(zone).compare(probe_output(on_host, served=2026112201))
    assert change.action == "update" and "-rogue IN A 198.18.0.66" in change.diff


def test_the_new_serial_is_above_the_one_named_serves(zone):
    on_host = render_zone(zone, 2026112201).replace("198.18.0.41", "198.18.0.42")
    change = zone_file(zone).compare(probe_output(on_host, served=2026112230))
    assert new_serial(change) == 2026112231


def test_a_serial_named_does_not_serve_is_drift_fixed_by_a_reload(zone):
    change = zone_file(zone).compare(probe_output(render_zone(zone, 2026112202), served=2026112201))
    assert change.action == "reload" and "serves serial 2026112201" in change.summary


def test_zone_files_notify_a_reload(inventory):
    ctx = RoleContext(inventory, inventory.hosts["ns1"], "bind9")
    zone_files = [r for r in Bind9().resources(ctx) if isinstance(r, ZoneFile)]
    assert len(zone_files) == 3 and all(r.notify == ("reload named",) for r in zone_files)


def test_named_serving_a_newer_serial_than_the_file_gets_a_higher_one(zone):
    change = zone_file(zone).compare(probe_output(render_zone(zone, 2026112202), served=2026112210))
    assert change.action == "update" and new_serial(change) == 2026112211


def test_the_zone_file_is_validated_by_named_checkzone(zone):
    change = zone_file(zone).compare(probe_output(None))
    assert "named-checkzone lab.test " in zone_file(zone).fix(change)


def guard(zone, text: str, force: bool = False) -> ZoneGuard:
    return ZoneGuard((("lab.test", "/etc/bind/zones/lab.test.zone", frozenset(r.identity for r in zone.records)),), force=force)


def encoded(text: str) -> str:
    return base64.b64encode(text.encode()).decode() + "\n"


def gutted(zone) -> str:
    """The zone on the host with ten more records than the inventory now has."""
    extra = "".join(f"old{i} IN A 198.18.0.{100 + i}\n" for i in range(10))
    return render_zone(zone, 2026112201) + extra


def test_a_plan_deleting_too_much_of_a_zone_is_refused(zone):
    change = guard(zone, "").compare(encoded(gutted(zone)))
    assert change.action == "refuse" and "10 of its" in change.summary
    assert "exit 3" in guard(zone, "").fix(change)


def test_a_forced_run_is_not_refused(zone):
    assert guard(zone, "", force=True).compare(encoded(gutted(zone))) is None


def test_a_zone_with_small_changes_passes_the_guard(zone):
    assert guard(zone, "").compare(encoded(render_zone(zone, 1) + "one IN A 198.18.0.9\n")) is None


def test_a_secondary_behind_its_primary_is_drift():
    change = SecondarySync("lab.test", "ns1", 2026112205).compare("2026112203\n")
    assert change.action == "retransfer" and "serves serial 2026112203; primary ns1 serves 2026112205" in change.summary


def test_a_secondary_level_with_its_primary_is_not_drift():
    assert SecondarySync("lab.test", "ns1", 2026112205).compare("2026112205\n") is None


def test_a_secondary_is_not_judged_while_the_primary_serial_is_unknown():
    assert SecondarySync("lab.test", "ns1", None).compare("") is None


# -- the TSIG key ---------------------------------------------------------------


def secondary_resources(inventory, host="ns2"):
    redactor = Redactor()
    book = ExportBook(redactor)
    book.put("ns1", "bind9", "tsig", SECRET, secret=True)
    book.put("ns1", "bind9", "serials", "# zone serials\nlab.test 2026112201\n")
    ctx = RoleContext(inventory, inventory.hosts[host], "bind9", book)
    return list(Bind9().resources(ctx)), redactor


def test_the_primary_generates_its_key_and_exports_it_as_a_secret(inventory):
    ctx = RoleContext(inventory, inventory.hosts["ns1"], "bind9")
    assert any("tsig-keygen -a hmac-sha256 fleetfab-ns1" in getattr(r, "run", "") for r in Bind9().prepare(ctx))
    assert Bind9().exports(ctx)["tsig"].secret


def test_secondaries_write_the_key_as_a_secret_file(inventory):
    resources, _ = secondary_resources(inventory)
    [key] = [r for r in resources if r.key == "file /etc/bind/fleetfab-keys/fleetfab-ns1.key"]
    assert key.secret and SECRET in key.content and key.mode == "0640"


def test_no_plan_shows_the_tsig_secret(inventory):
    resources, redactor = secondary_resources(inventory)
    changes = [r.compare("absent\n") for r in resources]
    [key] = [r for r in resources if r.key.endswith("fleetfab-ns1.key")]
    changes.append(key.compare("root bind 640\n" + "0" * 64 + "\n"))
    shown = [str(c.as_dict()) for c in changes if c is not None]
    assert sum("'resource': 'file /etc/bind/fleetfab-keys/fleetfab-ns1.key'" in text for text in shown) == 2
    assert not any(SECRET in text for text in shown)
    assert SECRET not in redactor(f"writing {SECRET}")


def test_secondaries_list_the_primary_with_the_key(inventory):
    resources, _ = secondary_resources(inventory)
    [local] = [r for r in resources if r.key == "file /etc/bind/named.conf.local"]
    assert 'primaries { 198.18.0.31 key "fleetfab-ns1"; };' in local.content
    assert 'include "/etc/bind/fleetfab-keys/fleetfab-ns1.key";' in local.content


def test_the_primary_notifies_every_secondary_and_transfers_only_with_the_key(inventory):
    ctx = RoleContext(inventory, inventory.hosts["ns1"], "bind9")
    [local] = [r for r in Bind9().resources(ctx) if r.key == "file /etc/bind/named.conf.local"]
    assert 'also-notify { 198.18.0.32 key "fleetfab-ns1"; 198.18.0.33 key "fleetfab-ns1"; };' in local.content
    assert 'allow-transfer { key "fleetfab-ns1"; };' in local.content


def test_the_server_is_authoritative_only(inventory):
    ctx = RoleContext(inventory, inventory.hosts["ns1"], "bind9")
    [options] = [r for r in Bind9().resources(ctx) if r.key == "file /etc/bind/named.conf.options"]
    assert "recursion no;" in options.content and "allow-transfer { none; };" in options.content
    assert "named-checkconf -z" in options.validate


def test_changes_reload_named_and_never_restart_it(inventory):
    ctx = RoleContext(inventory, inventory.hosts["ns2"], "bind9")
    commands = Bind9().handlers(ctx).values()
    assert all(c.startswith("rndc ") for c in commands) and not any("restart" in c for c in commands)
