"""What the fleet's name servers publish for the mail host, and how the host checks they do."""

from __future__ import annotations

import re

import pytest

from fleetfab.dns import DnsRecord
from fleetfab.roles.bind9 import Bind9
from fleetfab.roles.bind9.fleet import fleet_zones
from fleetfab.roles.bind9.records import txt_rdata
from fleetfab.roles.bind9.resources import ZoneFile
from fleetfab.roles.bind9.zonedata import zone_content
from fleetfab.roles.bind9.zonefile import render_zone
from fleetfab.roles.mail import Mail, dkim
from fleetfab.roles.mail.published import DkimServed, PtrAgrees
from tests.unit.mail_fleet import INVENTORY, PUBLIC_KEY, context

DKIM_VALUE = f"v=DKIM1; k=rsa; p={PUBLIC_KEY}"


@pytest.fixture
def inventory(load):
    return load(INVENTORY)


def records(inventory, exports: dict | None = None) -> set[DnsRecord]:
    return set(Mail().dns_records(context(inventory, "ns1", exports)))


def zone_lines(inventory, zone: str, contributed) -> set[str]:
    content = zone_content(inventory, fleet_zones(inventory)[zone], contributed)
    return {f"{r.name} {r.type} {r.rdata}" for r in content.records}


# -- the records ----------------------------------------------------------------


def test_every_mail_domain_has_the_mail_host_as_its_mx(inventory):
    found = {r for r in records(inventory) if r.type == "MX"}
    assert found == {DnsRecord("example.com", "MX", "10 mail1.lab.test."), DnsRecord("example.net", "MX", "10 mail1.lab.test.")}


def test_every_mail_domain_publishes_its_spf(inventory):
    assert DnsRecord("example.com", "TXT", "v=spf1 mx -all") in records(inventory)


def test_every_mail_domain_publishes_its_dmarc_policy(inventory):
    assert DnsRecord("_dmarc.example.net", "TXT", "v=DMARC1; p=quarantine; adkim=s; aspf=s") in records(inventory)


def test_the_dkim_key_is_published_under_its_selector_for_every_domain(inventory):
    found = {r for r in records(inventory) if "._domainkey." in r.name}
    assert found == {DnsRecord("s1._domainkey.example.com", "TXT", DKIM_VALUE),
                     DnsRecord("s1._domainkey.example.net", "TXT", DKIM_VALUE)}


def test_every_key_on_the_host_is_published_not_only_the_active_one(inventory):
    exports = {"dkim_keys": "s1 AAAA\ns2 BBBB\n", "dkim_active": "s1\n"}
    names = {r.name for r in records(inventory, exports) if r.name.endswith("._domainkey.example.com")}
    assert names == {"s1._domainkey.example.com", "s2._domainkey.example.com"}


def test_tls_reporting_is_published_when_an_address_is_set(inventory):
    assert DnsRecord("_smtp._tls.example.com", "TXT", "v=TLSRPTv1; rua=mailto:postmaster@example.com") in records(inventory)


def test_no_tls_reporting_record_without_an_address(load):
    inventory = load(INVENTORY.replace("            tls_rpt: mailto:postmaster@example.com\n", ""))
    assert not any(r.name.startswith("_smtp._tls.") for r in records(inventory))


def test_the_mail_host_gets_an_address_and_a_ptr_for_its_name(inventory):
    found = records(inventory)
    assert DnsRecord("mail1.lab.test", "A", "198.18.0.41") in found
    assert DnsRecord("41.0.18.198.in-addr.arpa", "PTR", "mail1.lab.test.") in found


def test_a_host_never_read_has_its_dkim_records_left_out_and_said_so(inventory):
    ctx = context(inventory, "ns1", exports={})
    found = list(Mail().dns_records(ctx))
    assert not any("_domainkey" in r.name for r in found)
    assert DnsRecord("example.com", "MX", "10 mail1.lab.test.") in found
    assert ctx.notes == ["DKIM records of mail1 left out: it was not read in this run"]


# -- in the zones ---------------------------------------------------------------


def test_a_record_is_served_in_the_fleet_zone_that_holds_its_name(inventory):
    lines = zone_lines(inventory, "example.com", records(inventory))
    assert {"@ MX 10 mail1.lab.test.", '@ TXT "v=spf1 mx -all"', "_dmarc TXT \"v=DMARC1; p=quarantine; adkim=s; aspf=s\""} <= lines


def test_the_host_address_and_ptr_go_to_the_forward_and_reverse_zones(inventory):
    contributed = records(inventory)
    assert "mail1 A 198.18.0.41" in zone_lines(inventory, "lab.test", contributed)
    assert "41 PTR mail1.lab.test." in zone_lines(inventory, "0.18.198.in-addr.arpa", contributed)


def test_a_record_for_a_domain_outside_the_fleets_zones_is_in_no_zone(inventory):
    contributed = records(inventory)
    for zone in fleet_zones(inventory):
        assert not any("example.net" in line for line in zone_lines(inventory, zone, contributed))


def test_a_contributed_ptr_replaces_the_one_the_inventory_implies(load):
    inventory = load(INVENTORY.replace("hostname: mail1.lab.test", "hostname: mx.example.com"))
    ptrs = {line for line in zone_lines(inventory, "0.18.198.in-addr.arpa", records(inventory)) if line.startswith("41 ")}
    assert ptrs == {"41 PTR mx.example.com."}


def test_the_operators_record_of_the_same_name_and_type_wins(load):
    inventory = load(INVENTORY.replace(
        "- {name: www, type: CNAME, value: example.com.}",
        '- {name: www, type: CNAME, value: example.com.}\n                  - {name: "@", type: TXT, value: "v=spf1 ip4:198.18.0.41 -all"}'))
    apex_txt = {line for line in zone_lines(inventory, "example.com", records(inventory)) if line.startswith("@ TXT")}
    assert apex_txt == {'@ TXT "v=spf1 ip4:198.18.0.41 -all"'}


def test_a_long_dkim_key_is_split_into_strings_of_at_most_255_bytes_in_the_zone_file(inventory):
    content = zone_content(inventory, fleet_zones(inventory)["example.com"], records(inventory))
    [line] = [l for l in render_zone(content, 1).splitlines() if l.startswith("s1._domainkey")]
    strings = re.findall(r'"([^"]*)"', line)
    assert len(strings) > 1 and all(len(s.encode()) <= 255 for s in strings)
    assert "".join(strings) == DKIM_VALUE


def test_the_primary_serves_the_mail_records_in_its_zone_file(inventory):
    zone_files = {r.zone.name: r for r in Bind9().resources(context(inventory, "ns1")) if isinstance(r, ZoneFile)}
    served = {(r.name, r.type) for r in zone_files["example.com"].zone.records}
    assert {("@", "MX"), ("_dmarc", "TXT"), ("s1._domainkey", "TXT")} <= served


# -- what the mail host checks the name servers serve ---------------------------


def dkim_served(key: str = PUBLIC_KEY) -> DkimServed:
    return DkimServed("example.com", "s1", key, "198.18.0.31", "ns1")


def test_a_key_served_in_several_strings_is_the_hosts_key():
    value = DKIM_VALUE
    answer = f'"{value[:100]}" "{value[100:300]}" "{value[300:]}"\n'
    assert dkim_served().compare(answer) is None


def test_a_key_served_as_the_zone_file_writes_it_is_the_hosts_key():
    assert dkim_served().compare(txt_rdata(DKIM_VALUE) + "\n") is None


def test_another_served_key_is_a_change_that_waits_for_the_name_server():
    change = dkim_served().compare('"v=DKIM1; k=rsa; p=MIIBsomeotherkey"\n')
    assert change.action == "wait" and "ns1 serves another DKIM key for s1._domainkey.example.com" in change.summary


def test_no_served_key_is_a_change():
    change = dkim_served().compare("")
    assert change.action == "wait" and "serves no DKIM key" in change.summary


def test_the_dkim_check_asks_the_name_server_itself_without_recursion():
    probe = dkim_served().probe()
    assert "+norecurse" in probe and "@198.18.0.31" in probe and "TXT s1._domainkey.example.com" in probe


def ptr(hostname: str = "mail1.lab.test") -> PtrAgrees:
    return PtrAgrees("198.18.0.41", hostname, "198.18.0.31", "ns1")


def test_a_ptr_naming_the_hostname_agrees_whatever_its_case():
    assert ptr().compare("MAIL1.lab.test.\n") is None


def test_a_ptr_naming_another_host_is_a_change_saying_both_names():
    change = ptr().compare("ns1.lab.test.\n")
    assert change.action == "wait" and "is ns1.lab.test; EHLO says mail1.lab.test" in change.summary


def test_no_ptr_is_a_change():
    assert "is no PTR" in ptr().compare("").summary


# -- DKIM keys ------------------------------------------------------------------


def test_the_keys_export_is_read_as_selector_and_public_key():
    assert dkim.parse_keys("s1 AAAA\ns2 BBBB\n") == {"s1": "AAAA", "s2": "BBBB"}


def test_lines_of_the_keys_export_that_are_not_a_selector_and_key_are_ignored():
    assert dkim.parse_keys("\nnoise\ns1 AAAA\na b c\n") == {"s1": "AAAA"}


def test_the_txt_value_of_a_key_is_a_dkim1_rsa_record():
    assert dkim.txt_value("AAAA") == "v=DKIM1; k=rsa; p=AAAA"


def test_a_new_key_present_on_the_host_is_no_change():
    assert dkim.NewKey("s20260101000000").compare("present\n") is None


def test_a_new_key_absent_from_the_host_is_generated_under_its_selector():
    key = dkim.NewKey("s20260101000000")
    change = key.compare("absent\n")
    assert change.action == "generate" and "sel=s20260101000000" in key.fix(change)
    assert "/etc/opendkim/keys/s20260101000000.private" in key.probe()


def test_a_selector_is_named_after_the_utc_time_it_was_made():
    assert dkim.new_selector(0) == "s19700101000000"
