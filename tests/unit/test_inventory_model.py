"""Merging settings, group membership, role order and host selection."""

from __future__ import annotations

import pytest

LAYERS = """
    vars:
      base: {packages: [global], ssh: {permit_root_login: "no"}, domain: global.test}
    groups:
      parent:
        children: [child]
        roles: [base]
        vars:
          base: {packages: [parent], domain: parent.test}
      child:
        vars:
          base: {domain: child.test}
    hosts:
      a:
        address: 198.18.0.1
        groups: [child]
        vars:
          base: {hostname: alpha}
      b:
        address: 198.18.0.2
        groups: [parent]
      c:
        address: 198.18.0.3
"""


@pytest.fixture
def inventory(load):
    return load(LAYERS)


def test_host_settings_override_groups(inventory):
    assert inventory.hosts["a"].settings("base")["hostname"] == "alpha"


def test_child_group_overrides_parent_group(inventory):
    assert inventory.hosts["a"].settings("base")["domain"] == "child.test"


def test_group_overrides_global(inventory):
    assert inventory.hosts["b"].settings("base")["packages"] == ["parent"]


def test_global_overrides_role_defaults_and_keeps_the_rest(inventory):
    ssh = inventory.hosts["b"].settings("base")["ssh"]
    assert ssh == {"permit_root_login": "no"}
    assert inventory.hosts["b"].settings("base")["admins"] == []


def test_nested_mappings_merge_key_by_key(load):
    inventory = load("""
        vars:
          base: {time: {servers: [ntp.example.net]}}
        hosts:
          a: {address: 198.18.0.1, roles: [base], vars: {base: {time: {in_container: true}}}}
    """)
    assert inventory.hosts["a"].settings("base")["time"] == {"servers": ["ntp.example.net"], "in_container": True}


def test_host_belongs_to_ancestors_of_its_groups_parent_first(inventory):
    assert inventory.hosts["a"].groups == ("parent", "child")


def test_roles_come_from_groups(inventory):
    assert inventory.hosts["a"].roles == ("base",)
    assert inventory.hosts["c"].roles == ()


def test_ssh_user_and_port_default_from_the_ssh_section(load):
    inventory = load("""
        ssh: {user: admin, port: 2222}
        hosts:
          a: {address: 198.18.0.1}
          b: {address: 198.18.0.2, user: root, port: 22}
    """)
    assert (inventory.hosts["a"].user, inventory.hosts["a"].port) == ("admin", 2222)
    assert (inventory.hosts["b"].user, inventory.hosts["b"].port) == ("root", 22)


def test_relative_key_paths_resolve_against_the_inventory_folder(load, tmp_path):
    inventory = load("""
        ssh: {identity: keys/id, known_hosts: ../known_hosts}
        hosts: {}
    """)
    assert inventory.ssh.identity == tmp_path / "keys" / "id"
    assert inventory.ssh.known_hosts == tmp_path.parent / "known_hosts"


def test_unknown_host_keys_are_refused_by_default(load):
    assert load("hosts: {}").ssh.trust_on_first_use is False


def test_a_read_waits_two_minutes_for_a_silent_host_unless_told_otherwise(load):
    assert load("hosts: {}").ssh.read_timeout == 120
    assert load("{ssh: {read_timeout: 15}, hosts: {}}").ssh.read_timeout == 15


def test_selecting_a_group_selects_its_descendants(inventory):
    assert [h.name for h in inventory.select("parent")] == ["a", "b"]


def test_selection_mixes_hosts_and_groups_in_inventory_order(inventory):
    assert [h.name for h in inventory.select("c,child")] == ["a", "c"]


def test_no_selection_means_every_host(inventory):
    assert [h.name for h in inventory.select(None)] == ["a", "b", "c"]


def test_lab_inventory_is_valid_and_every_host_is_in_nodes():
    from fleetfab.inventory import load_inventory

    lab = load_inventory("inventory/lab.yml")
    assert len(lab.hosts) >= 7
    assert [h.name for h in lab.select("nodes")] == list(lab.hosts)


def test_example_production_inventory_is_valid_and_works_through_sudo():
    from fleetfab.inventory import load_inventory

    production = load_inventory("inventory/example-production.yml")
    assert {h.user for h in production.hosts.values()} == {"admin"}
    assert production.ssh.trust_on_first_use is False
    assert production.hosts["ns2"].port == 2222
