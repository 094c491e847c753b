"""Zone content from the inventory: written records, derived ones, the file's text."""

from __future__ import annotations

import pytest

from fleetfab.roles.bind9.fleet import fleet_zones, reverse_zone_name
from fleetfab.roles.bind9.zonedata import zone_content
from fleetfab.roles.bind9.zonefile import records_in, render_zone, same_content, serial_of, with_serial
from tests.unit.bind9_fleet import INVENTORY


@pytest.fixture
def zones(load):
    inventory = load(INVENTORY)
    return {name: zone_content(inventory, zone) for name, zone in fleet_zones(inventory).items()}


def lines_of(zone) -> set[str]:
    return {f"{r.name} {r.type} {r.rdata}" for r in zone.records}


def test_every_zone_has_one_primary_and_its_secondaries(load):
    zones = fleet_zones(load(INVENTORY))
    assert sorted(zones) == ["0.18.198.in-addr.arpa", "example.com", "lab.test"]
    assert zones["lab.test"].primary.name == "ns1"
    assert [h.name for h in zones["lab.test"].secondaries] == ["ns2", "ns3"]


def test_every_server_of_a_zone_is_a_name_server_of_it(zones):
    assert {"@ NS ns1.lab.test.", "@ NS ns2.lab.test.", "@ NS ns3.lab.test."} <= lines_of(zones["lab.test"])


def test_name_servers_inside_a_zone_get_their_addresses(zones):
    assert {"ns1 A 198.18.0.31", "ns2 A 198.18.0.32"} <= lines_of(zones["example.com"])


def test_a_hosts_zone_has_an_address_for_every_inventory_host(zones):
    assert {"mail1 A 198.18.0.41", "ns3 A 198.18.0.33"} <= lines_of(zones["lab.test"])


def test_mesh_addresses_are_published_under_the_mesh_name(zones):
    assert {"ns1.mesh A 100.64.0.31", "web1.mesh A 100.64.0.11"} <= lines_of(zones["lab.test"])
    assert not any(line.startswith("mail1.mesh") for line in lines_of(zones["lab.test"]))


def test_a_written_record_replaces_the_derived_one_of_its_name_and_type(zones):
    web1 = [line for line in lines_of(zones["lab.test"]) if line.startswith("web1 A")]
    assert web1 == ["web1 A 198.18.0.99"]


def test_a_reverse_zone_points_every_address_of_its_network_at_its_host(zones):
    reverse = lines_of(zones["0.18.198.in-addr.arpa"])
    assert {"11 PTR web1.lab.test.", "41 PTR mail1.lab.test.", "@ NS ns1.lab.test."} <= reverse


def test_reverse_zone_names_follow_the_network():
    assert reverse_zone_name("198.18.0.0/24") == "0.18.198.in-addr.arpa"
    assert reverse_zone_name("198.18.0.0/16") == "18.198.in-addr.arpa"
    assert reverse_zone_name("2001:db8::/32") == "8.b.d.0.1.0.0.2.ip6.arpa"


def test_a_hidden_primary_is_left_out_of_the_name_servers(load):
    inventory = load(INVENTORY.replace("vars: {bind9: {server: primary}}", "vars: {bind9: {server: primary, hidden: true}}"))
    names = lines_of(zone_content(inventory, fleet_zones(inventory)["example.com"]))
    assert "@ NS ns1.example.com." not in names and "ns1 A 198.18.0.31" not in names
    assert "@ NS ns2.example.com." in names


def test_the_rendered_file_has_the_soa_serial_and_every_record(zones):
    text = render_zone(zones["example.com"], 2026112205)
    assert "@ IN SOA ns1.example.com. hostmaster.example.com. (" in text
    assert serial_of(text) == 2026112205
    assert '@                       IN TXT   "v=spf1 -all"' in text
    assert records_in(text) == {r.identity for r in zones["example.com"].records}


def test_rendering_is_stable(zones):
    assert render_zone(zones["lab.test"], 1) == render_zone(zones["lab.test"], 1)


def test_a_file_differing_only_in_serial_has_the_same_content(zones):
    text = render_zone(zones["lab.test"], 2026010100)
    assert same_content(text, zones["lab.test"])
    assert with_serial(text, 42).count("42 ; serial") == 1


def test_a_file_edited_by_hand_has_other_content(zones):
    text = render_zone(zones["lab.test"], 2026010100) + "rogue IN A 198.18.0.66\n"
    assert not same_content(text, zones["lab.test"])


def test_long_txt_values_are_split_into_strings_of_255():
    from fleetfab.roles.bind9.records import txt_rdata

    value = "p=" + "A" * 400
    assert txt_rdata(value) == f'"{value[:255]}" "{value[255:]}"'


def test_semicolons_inside_txt_strings_are_not_comments():
    text = 'dkim IN TXT "v=DKIM1; k=rsa; p=XYZ" ; a comment\n'
    assert records_in(text) == {("dkim", "TXT", '"v=DKIM1; k=rsa; p=XYZ"')}
