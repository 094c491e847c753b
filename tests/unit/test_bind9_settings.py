"""Bind9 settings mistakes are reported with file, line and field, before any host is touched."""

from tests.unit.bind9_fleet import INVENTORY


def test_the_fleet_example_is_valid(load):
    assert load(INVENTORY).hosts["ns1"].settings("bind9")["server"] == "primary"


def test_a_server_must_say_whether_it_is_primary_or_secondary(problems):
    found = problems(INVENTORY.replace("vars: {bind9: {server: secondary}}", "vars: {bind9: {server: tertiary}}"))
    assert any("bind9.server" in p and "'primary', 'secondary'" in p for p in found)


def test_a_zone_with_two_primaries_is_refused(problems):
    found = problems(INVENTORY.replace("ns3: {address: 198.18.0.33, groups: [secondary]}",
                                       "ns3: {address: 198.18.0.33, groups: [secondary], vars: {bind9: {server: primary}}}"))
    assert any("zone lab.test" in p and "2 are (ns1, ns3)" in p for p in found)


def test_a_zone_without_a_primary_is_refused(problems):
    text = INVENTORY + """
          ns4:
            address: 198.18.0.34
            groups: [secondary]
            vars: {bind9: {zones: {extra.test: {}}}}
    """.replace("\n          ", "\n      ")
    found = problems(text)
    assert any("zone extra.test" in p and "none of them is its primary" in p for p in found)


def test_an_a_record_must_hold_an_ipv4_address(problems):
    found = problems(INVENTORY.replace("{name: web1, type: A, value: 198.18.0.99}", "{name: web1, type: A, value: 2001:db8::1}"))
    assert any(p.startswith("13: ") and "records[2]" in p and "IPv6 address" in p for p in found)


def test_an_unknown_record_type_names_its_line(problems):
    found = problems(INVENTORY.replace("type: CNAME", "type: SPF"))
    assert any(p.startswith("12: ") and "records[1].type" in p and "expected one of" in p for p in found)


def test_a_cname_cannot_share_its_name(problems):
    found = problems(INVENTORY.replace("{name: www, type: CNAME, value: web1}", "{name: web1, type: CNAME, value: mail1}"))
    assert any("a CNAME cannot share its name" in p for p in found)


def test_a_reverse_zone_needs_an_octet_boundary(problems):
    found = problems(INVENTORY.replace("198.18.0.0/24: {domain: lab.test}", "198.18.0.0/20: {domain: lab.test}"))
    assert any("multiple of 8" in p for p in found)


def test_a_reverse_zone_must_point_at_a_zone_of_the_fleet(problems):
    found = problems(INVENTORY.replace("198.18.0.0/24: {domain: lab.test}", "198.18.0.0/24: {domain: other.test}"))
    assert any("'other.test' is not a zone of this fleet" in p for p in found)


def test_an_unknown_zone_setting_is_named(problems):
    found = problems(INVENTORY.replace("hosts: true", "hostz: true"))
    assert any("unknown key 'hostz'" in p for p in found)
