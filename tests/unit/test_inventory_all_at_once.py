"""Every inventory problem is reported in one run: a value of the wrong kind does not hide the
fleet-wide checks (a CNAME clash, an A record that is no address), and each names its full path."""

from __future__ import annotations

import pytest

from fleetfab.inventory import SelectionError, load_inventory

ZONE_IN_A_GROUP = """
    groups:
      dns:
        roles: [base, bind9]
        vars:
          bind9:
            server: primary
            zones:
              lab.test:
                records:
                  - {name: www, type: A, value: 198.18.0.300}
                  - {name: mail, type: CNAME, value: www}
                  - {name: mail, type: TXT, value: hello}
    hosts:
      ns1:
        address: 198.18.0.53
        port: 99999
        groups: [dns]
"""


def test_type_problems_and_record_checks_are_reported_together(problems):
    found = problems(ZONE_IN_A_GROUP)
    assert "16: hosts.ns1.port: expected a whole number from 1 to 65535, got 99999" in found
    assert any(": A record www: '198.18.0.300' is not an IP address" in p for p in found)
    assert any(": a CNAME cannot share its name with other records" in p for p in found)


def test_a_record_problem_names_the_group_it_is_written_in(problems):
    found = [p for p in problems(ZONE_IN_A_GROUP) if "records[" in p]
    assert found == [
        "10: groups.dns.vars.bind9.zones.lab.test.records[0]: A record www: '198.18.0.300' is not an IP address",
        "11: groups.dns.vars.bind9.zones.lab.test.records[1]: mail: a CNAME cannot share its name with other records",
    ]


def test_a_record_written_on_the_host_names_the_host(problems):
    found = problems("""
        hosts:
          ns1:
            address: 198.18.0.53
            roles: [base, bind9]
            vars:
              bind9:
                server: primary
                zones: {lab.test: {records: [{name: www, type: A, value: 198.18.0.300}]}}
    """)
    assert found == ["8: hosts.ns1.vars.bind9.zones.lab.test.records[0]: A record www: '198.18.0.300' is not an IP address"]


def test_a_refused_value_is_not_reported_twice_by_a_fleet_check(problems):
    found = problems("""
        hosts:
          ns1:
            address: 198.18.0.53
            roles: [base, bind9]
            vars: {bind9: {server: primary, zones: {lab.test: {records: [{name: www, type: A}]}}}}
    """)
    assert found == ["5: hosts.ns1.vars.bind9.zones.lab.test.records[0]: missing required key 'value'"]


def test_an_unknown_role_suggests_the_close_one(problems):
    found = problems("""
        hosts:
          ns1: {address: 198.18.0.53, roles: [bind]}
    """)
    assert found == ["2: hosts.ns1.roles[0]: unknown role 'bind' (did you mean 'bind9'?)"]


def test_an_unknown_group_suggests_the_close_one(problems):
    found = problems("""
        groups:
          k8s_control: {}
        hosts:
          cp1: {address: 198.18.0.11, groups: [k8s_controll]}
    """)
    assert found == ["4: hosts.cp1.groups[0]: unknown group 'k8s_controll' (did you mean 'k8s_control'?)"]


def test_an_unknown_key_suggests_the_close_one(problems):
    found = problems("""
        vars:
          base: {pakages: [curl]}
        hosts: {}
    """)
    assert len(found) == 1 and found[0].startswith("2: vars.base.pakages: unknown key 'pakages': did you mean 'packages'? (known keys: ")


def test_a_vars_section_of_no_role_suggests_the_close_one(problems):
    found = problems("""
        vars:
          bind: {}
        hosts: {}
    """)
    assert len(found) == 1 and found[0].startswith("2: vars.bind: not a role (did you mean 'bind9'?)")


def test_a_name_like_no_other_gets_no_suggestion(problems):
    found = problems("""
        hosts:
          ns1: {address: 198.18.0.53, roles: [zzzzzz]}
    """)
    assert found == ["2: hosts.ns1.roles[0]: unknown role 'zzzzzz'"]


def test_an_unknown_host_in_the_selection_suggests_the_close_one(load):
    inventory = load("""
        hosts:
          worker1: {address: 198.18.0.21}
    """)
    with pytest.raises(SelectionError) as caught:
        inventory.select("worker")
    assert "(did you mean 'worker1'?)" in str(caught.value)
