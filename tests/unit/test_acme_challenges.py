"""The ACME side of the fleet: bind9's challenge zones and their delegations, and the lab's CA (pebble)."""

from __future__ import annotations

import pytest

from fleetfab.resources import Command, File
from fleetfab.roles.acme_ca import API_CERT, API_KEY, UNIT, AcmeCa
from fleetfab.roles.bind9 import Bind9
from fleetfab.roles.bind9.challenges import DYNAMIC_DIR, challenge_name
from fleetfab.roles.bind9.records import Record
from fleetfab.roles.bind9.resources import ZoneFile
from tests.unit.acme_fleet import INVENTORY, context

LOCAL = "file /etc/bind/named.conf.local"
NS1_ZONES = {"_acme-challenge.www.example.com", "_acme-challenge.example.com",
             "_acme-challenge.apps.lab.test", "_acme-challenge.mail1.lab.test"}


@pytest.fixture
def inventory(load):
    return load(INVENTORY)


def desired(inventory, host: str, role: str = "bind9") -> dict:
    role_class = Bind9 if role == "bind9" else AcmeCa
    return {r.key: r for r in role_class().resources(context(inventory, host, role))}


def challenge_commands(inventory, host: str) -> dict[str, Command]:
    prefix = "command create the challenge zone "
    return {key.removeprefix(prefix): r for key, r in desired(inventory, host).items() if key.startswith(prefix)}


def zone_blocks(conf: str) -> dict[str, str]:
    """named.conf.local's zone statements, by zone name."""
    blocks = {}
    for chunk in conf.split('zone "')[1:]:
        name, _, body = chunk.partition('"')
        blocks[name] = body[:body.index("\n};")]
    return blocks


# -- bind9: challenge zones ----------------------------------------------------------


def test_a_wildcard_shares_the_challenge_zone_of_its_base_name():
    assert challenge_name("*.apps.lab.test") == "_acme-challenge.apps.lab.test"
    assert challenge_name("www.example.com") == "_acme-challenge.www.example.com"


def test_the_primary_holds_one_challenge_zone_per_certified_name(inventory):
    assert set(challenge_commands(inventory, "ns1")) == NS1_ZONES


def test_challenge_zones_are_on_the_primary_of_their_parent_zone_only(inventory):
    assert set(challenge_commands(inventory, "ns9")) == {"_acme-challenge.www.example.org"}


def test_a_secondary_holds_no_challenge_zone(inventory):
    state = desired(inventory, "ns2")
    assert not challenge_commands(inventory, "ns2") and f"directory {DYNAMIC_DIR}" not in state
    assert "_acme-challenge" not in state[LOCAL].content


def test_a_challenge_zone_is_created_once_and_never_rewritten(inventory):
    created = challenge_commands(inventory, "ns1")["_acme-challenge.apps.lab.test"]
    path = f"{DYNAMIC_DIR}/_acme-challenge.apps.lab.test.zone"
    assert isinstance(created, Command) and created.creates == path and created.unless is None
    assert f"file {path}" not in desired(inventory, "ns1")


def test_a_new_challenge_zone_names_the_primary_as_its_server(inventory):
    run = challenge_commands(inventory, "ns1")["_acme-challenge.apps.lab.test"].run
    assert "@ IN SOA ns1.lab.test. hostmaster.lab.test. " in run and "@ IN NS ns1.lab.test." in run


def test_a_new_challenge_zone_belongs_to_named(inventory):
    run = challenge_commands(inventory, "ns1")["_acme-challenge.www.example.com"].run
    # written by bind itself in its own folder, or by root then given to bind
    assert f"ff_enter {DYNAMIC_DIR} bind bind" in run and "chown -h bind:bind " in run
    assert desired(inventory, "ns1")[f"directory {DYNAMIC_DIR}"].owner == "bind"


def test_named_is_reconfigured_after_a_challenge_zone_is_created(inventory):
    assert all(c.notify == ("reconfig named",) for c in challenge_commands(inventory, "ns1").values())


def test_every_other_zone_of_the_primary_refuses_updates(inventory):
    blocks = zone_blocks(desired(inventory, "ns1")[LOCAL].content)
    for name in ("lab.test", "example.com"):
        assert "allow-update { none; };" in blocks[name] and "update-policy" not in blocks[name]


def test_a_secondary_does_not_include_an_acme_key(inventory):
    assert "fleetfab-acme" not in desired(inventory, "ns2")[LOCAL].content


# -- bind9: delegations in the parent zones -------------------------------------------


def zone_records(inventory, zone: str, host: str = "ns1") -> set[Record]:
    resource = desired(inventory, host)[f"zone {zone}"]
    assert isinstance(resource, ZoneFile)
    return set(resource.zone.records)


def test_the_parent_zone_delegates_each_challenge_zone_to_the_primary(inventory):
    records = zone_records(inventory, "example.com")
    assert Record("_acme-challenge.www", "NS", "ns1.example.com.") in records
    assert Record("_acme-challenge", "NS", "ns1.example.com.") in records


def test_a_wildcards_challenge_zone_is_delegated_under_its_base_name(inventory):
    assert Record("_acme-challenge.apps", "NS", "ns1.lab.test.") in zone_records(inventory, "lab.test")


def test_a_zone_with_no_certified_name_delegates_nothing(load):
    inventory = load(INVENTORY.replace('"*.apps.lab.test"', "www.example.com").replace(
        "names: [mail1.lab.test]", "names: [example.com]"))
    assert not [r for r in zone_records(inventory, "lab.test") if r.name.startswith("_acme-challenge")]


def test_the_delegation_targets_resolve_through_glue_in_the_zone(inventory):
    assert Record("ns1", "A", "198.18.0.31") in zone_records(inventory, "example.com")


def test_delegations_are_on_the_primary_holding_the_parent_zone(inventory):
    records = zone_records(inventory, "example.org", host="ns9")
    assert Record("_acme-challenge.www", "NS", "ns9.example.org.") in records
    assert not [r for r in zone_records(inventory, "example.com") if "example.org" in r.value]


# -- acme_ca: pebble ------------------------------------------------------------------


def exec_start(inventory, host: str = "ca1") -> str:
    unit = desired(inventory, host, "acme_ca")[f"file {UNIT}"].content
    [line] = [line for line in unit.splitlines() if line.startswith("ExecStart=")]
    return line


def test_pebble_asks_the_first_primary_for_dns_01_tokens_by_default(inventory):
    assert exec_start(inventory).endswith(" -dnsserver 198.18.0.31:53")


def test_pebble_asks_the_configured_dns_server(load):
    inventory = load(INVENTORY.replace("ca1: {address: 198.18.0.51, groups: [ca]}",
                                       "ca1: {address: 198.18.0.51, groups: [ca], vars: {acme_ca: {dns_server: 198.18.0.39:5353}}}"))
    assert exec_start(inventory).endswith(" -dnsserver 198.18.0.39:5353")


def test_pebble_brackets_an_ipv6_primary_address(load):
    inventory = load(INVENTORY.replace("ns1: {address: 198.18.0.31,", "ns1: {address: '2001:db8::31',"))
    assert exec_start(inventory).endswith(" -dnsserver [2001:db8::31]:53")


def test_pebbles_api_certificate_is_generated_on_its_host_once(inventory):
    [generated] = [r for r in AcmeCa().prepare(context(inventory, "ca1", "acme_ca")) if isinstance(r, Command)]
    assert generated.creates == API_KEY
    assert "openssl req -x509" in generated.run and f"-out {API_CERT}" in generated.run


def test_pebbles_api_certificate_names_its_host_and_address(inventory):
    [generated] = [r for r in AcmeCa().prepare(context(inventory, "ca1", "acme_ca")) if isinstance(r, Command)]
    assert "subjectAltName=IP:198.18.0.51,DNS:ca1" in generated.run


def test_pebbles_api_certificate_is_exported_and_not_secret(inventory):
    export = AcmeCa().exports(context(inventory, "ca1", "acme_ca"))["api_cert"]
    assert not export.secret and export.command == f"cat {API_CERT}"


def test_pebbles_private_key_is_never_exported(inventory):
    exports = AcmeCa().exports(context(inventory, "ca1", "acme_ca"))
    assert not any(API_KEY in e.command for e in exports.values())


def test_a_changed_pebble_unit_restarts_pebble(inventory):
    unit = desired(inventory, "ca1", "acme_ca")[f"file {UNIT}"]
    assert isinstance(unit, File) and unit.notify == ("restart pebble",)
    assert "systemctl restart fleetfab-pebble" in AcmeCa().handlers(context(inventory, "ca1", "acme_ca"))["restart pebble"]


def test_pebble_never_refuses_a_nonce_on_purpose(inventory):
    """pebble's default 5% of refused nonces failed lab renewals at random (certbot gives up on one)."""
    unit = desired(inventory, "ca1", "acme_ca")[f"file {UNIT}"]
    assert "Environment=PEBBLE_WFE_NONCEREJECT=0\n" in unit.content


def test_pebble_is_restarted_only_when_it_runs_settings_older_than_its_files():
    """A pebble the same run just started keeps its root: certificates issued from it stay valid."""
    from fleetfab.roles.acme_ca import CONFIG, RESTART, AcmeCa

    script = AcmeCa().handlers(None)[RESTART]
    condition = script.splitlines()[1]
    assert condition.startswith("if ! systemctl is-active --quiet fleetfab-pebble ||")
    assert "ActiveEnterTimestamp" in condition and CONFIG in condition and "-lt" in condition
