"""Bad inventories are refused before anything connects, each problem at its file, line and field."""

from __future__ import annotations

import pytest

from fleetfab.inventory import InputError, SelectionError, load_inventory


def test_yaml_syntax_error_names_its_line(problems):
    found = problems("""
        hosts:
          a:
            address: 198.18.0.1
           groups: [x]
    """)
    assert len(found) == 1 and found[0].startswith("4: (yaml):")


def test_duplicate_key_is_reported_with_both_lines(problems):
    found = problems("""
        hosts:
          a: {address: 198.18.0.1}
          a: {address: 198.18.0.2}
    """)
    assert found == ["3: a: duplicate key (first written on line 2)"]


def test_unknown_top_level_key(problems):
    found = problems("""
        hosts: {}
        hostz: {}
    """)
    assert found == ["2: hostz: unknown key 'hostz': did you mean 'hosts'? (known keys: groups, hosts, lab, roles_path, run, ssh, vars)"]


def test_unknown_host_key(problems):
    found = problems("""
        hosts:
          a:
            address: 198.18.0.1
            adress: 198.18.0.2
    """)
    assert found == ["4: hosts.a.adress: unknown key 'adress': did you mean 'address'? (known keys: address, groups, jump, lab, port, roles, user, vars, vm)"]


def test_missing_address(problems):
    assert problems("""
        hosts:
          a: {port: 22}
    """) == ["2: hosts.a: missing required key 'address'"]


def test_malformed_ip_address(problems):
    assert problems("""
        hosts:
          a: {address: 198.18.0.300}
    """) == ["2: hosts.a.address: expected an IP address, got '198.18.0.300'"]


def test_malformed_cidr(problems):
    found = problems("""
        lab:
          network: 198.18.0.1/24
        hosts: {}
    """)
    assert found == ["2: lab.network: expected a network in CIDR form, such as 198.18.0.0/24, got '198.18.0.1/24'"]


def test_read_timeout_of_zero_is_refused(problems):
    assert problems("""
        ssh: {read_timeout: 0}
        hosts: {}
    """) == ["1: ssh.read_timeout: expected a whole number from 1 to 3600, got 0"]


def test_port_out_of_range(problems):
    assert problems("""
        hosts:
          a: {address: 198.18.0.1, port: 70000}
    """) == ["2: hosts.a.port: expected a whole number from 1 to 65535, got 70000"]


def test_unknown_role_on_host_and_group(problems):
    found = problems("""
        groups:
          g: {roles: [bsae]}
        hosts:
          a: {address: 198.18.0.1, groups: [g], roles: [nope]}
    """)
    assert found == ["2: groups.g.roles[0]: unknown role 'bsae' (did you mean 'base'?)", "4: hosts.a.roles[0]: unknown role 'nope'"]


def test_reference_to_undefined_group(problems):
    found = problems("""
        groups:
          g: {children: [missing]}
        hosts:
          a: {address: 198.18.0.1, groups: [ghost]}
    """)
    assert found == ["2: groups.g.children[0]: unknown group 'missing'", "4: hosts.a.groups[0]: unknown group 'ghost'"]


def test_group_cycle(problems):
    found = problems("""
        groups:
          a: {children: [b]}
          b: {children: [c]}
          c: {children: [a]}
        hosts: {}
    """)
    assert found == ["2: groups.a.children: group cycle: a -> b -> c -> a"]


def test_duplicate_address(problems):
    found = problems("""
        hosts:
          a: {address: 198.18.0.1}
          b: {address: 198.18.0.1}
    """)
    assert found == ["3: hosts.b.address: address 198.18.0.1 (port 22) is already used by host 'a'"]


def test_same_address_on_another_ssh_port_is_a_different_host(load):
    inventory = load("""
        hosts:
          a: {address: 127.0.0.1, port: 2201}
          b: {address: 127.0.0.1, port: 2202}
    """)
    assert list(inventory.hosts) == ["a", "b"]


def test_host_named_like_a_group(problems):
    found = problems("""
        groups:
          db: {}
        hosts:
          db: {address: 198.18.0.1}
    """)
    assert found == ["4: hosts.db: 'db' is also a group name; -H could not tell them apart"]


def test_vars_section_that_is_not_a_role(problems):
    found = problems("""
        vars:
          bsae: {packages: [curl]}
        hosts: {}
    """)
    assert len(found) == 1 and found[0].startswith("2: vars.bsae: not a role")


def test_role_setting_of_the_wrong_type(problems):
    found = problems("""
        hosts:
          a:
            address: 198.18.0.1
            vars:
              base:
                packages: curl
    """)
    assert found == ["6: hosts.a.vars.base.packages: expected a list, got 'curl'"]


def test_unknown_role_setting(problems):
    found = problems("""
        groups:
          g:
            vars:
              base: {pakages: [curl]}
        hosts: {}
    """)
    assert found == ["4: groups.g.vars.base.pakages: unknown key 'pakages': " + found[0].split("pakages': ", 1)[1]]
    assert "packages" in found[0]


def test_nested_role_setting_error_names_the_list_item(problems):
    found = problems("""
        vars:
          base:
            admins:
              - name: ops
                keys: [not-a-key]
        hosts: {}
    """)
    assert found == ["5: vars.base.admins[0].keys[0]: expected an SSH public key line, got 'not-a-key'"]


def test_every_problem_is_reported_at_once(problems):
    found = problems("""
        groups:
          g: {children: [nowhere]}
        hosts:
          a: {address: not-an-ip, roles: [nope]}
          b: {address: 198.18.0.2, groups: [ghost], color: blue}
    """)
    assert len(found) == 5


def test_missing_file_is_a_clear_problem(tmp_path):
    with pytest.raises(InputError) as caught:
        load_inventory(tmp_path / "absent.yml")
    [problem] = caught.value.problems
    assert problem.field == "(file)" and "cannot read inventory" in problem.message


def test_problems_print_as_file_line_field_message(write_inventory):
    path = write_inventory("hosts:\n  a: {address: nope}\n")
    with pytest.raises(InputError) as caught:
        load_inventory(path)
    assert str(caught.value) == f"{path}:2: hosts.a.address: expected an IP address, got 'nope'"


def test_selecting_an_unknown_name_is_an_error(load):
    inventory = load("""
        hosts:
          a: {address: 198.18.0.1}
    """)
    with pytest.raises(SelectionError) as caught:
        inventory.select("a,b")
    assert str(caught.value).startswith("-H: b: neither a host nor a group of ")
