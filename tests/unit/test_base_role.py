"""The base role's desired state, from an inventory alone."""

from __future__ import annotations

import pytest

from fleetfab.role import RoleContext
from tests.unit.debian_releases import BOOKWORM
from fleetfab.roles.base import SSHD_DROP_IN, SUDOERS, Base

INVENTORY = """
    vars:
      base:
        domain: lab.test
        admins:
          - name: ops
            keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleKeyForTestsOnly ops@example.com"]
          - name: auditor
            sudo: false
        packages: [curl]
        sysctls: {net.ipv4.ip_forward: 1}
    groups:
      all: {roles: [base]}
    hosts:
      web1: {address: 198.18.0.11, groups: [all]}
      db1:
        address: 198.18.0.12
        groups: [all]
        vars:
          base:
            hostname: database
            apt_proxy: http://198.18.0.1:3142
            time: {servers: [198.18.0.1], in_container: true}
"""


@pytest.fixture
def desired(load):
    inventory = load(INVENTORY)

    def resources(host: str) -> dict:
        ctx = RoleContext(inventory, inventory.hosts[host], "base", release=BOOKWORM)
        return {r.key: r for r in Base().resources(ctx)}

    return resources


def test_hostname_is_the_inventory_name_by_default(desired):
    assert desired("web1")["file /etc/hostname"].content == "web1\n"


def test_hostname_setting_overrides_the_inventory_name(desired):
    assert desired("db1")["file /etc/hostname"].content == "database\n"
    assert "hostname database" in desired("db1")["command set hostname"].run


def test_etc_hosts_lists_every_inventory_host_with_its_domain(desired):
    hosts = desired("web1")["file /etc/hosts"].content
    assert "198.18.0.11\tweb1.lab.test web1\n" in hosts
    assert "198.18.0.12\tdatabase.lab.test database\n" in hosts
    assert "127.0.0.1\tlocalhost\n" in hosts


def test_admins_get_an_account_and_their_keys_only(desired):
    resources = desired("web1")
    keys = resources["file /home/ops/.ssh/authorized_keys"]
    assert keys.content == "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleKeyForTestsOnly ops@example.com\n"
    assert (keys.owner, keys.mode) == ("ops", "0600")
    assert resources["directory /home/ops/.ssh"].mode == "0700"
    assert "user auditor" in resources


def test_only_sudo_admins_are_in_sudoers_and_the_file_is_validated(desired):
    sudoers = desired("web1")[f"file {SUDOERS}"]
    assert "ops ALL=(ALL:ALL) NOPASSWD: ALL" in sudoers.content
    assert "auditor" not in sudoers.content
    assert sudoers.validate == "visudo -cf %s" and sudoers.mode == "0440"


def test_sshd_takes_keys_only_and_is_checked_before_reload(desired):
    sshd = desired("web1")[f"file {SSHD_DROP_IN}"]
    assert "PasswordAuthentication no" in sshd.content
    assert "PermitRootLogin prohibit-password" in sshd.content
    assert sshd.validate == "sshd -t -f %s" and sshd.notify == ("reload sshd",)


def test_sshd_drop_in_is_read_before_other_drop_ins():
    # sshd keeps the first value it reads; drop-ins are read in name order
    assert SSHD_DROP_IN.rsplit("/", 1)[1] < "50-cloud-init.conf"


def test_inventory_packages_come_with_the_base_packages(desired):
    [packages] = [r for k, r in desired("web1").items() if k.startswith("packages")]
    assert set(packages.names) >= {"curl", "openssh-server", "sudo", "systemd-timesyncd"}


def test_sysctls_are_set(desired):
    assert desired("web1")["sysctl net.ipv4.ip_forward"].value == 1


def test_time_servers_configure_timesyncd(desired):
    conf = desired("db1")["file /etc/systemd/timesyncd.conf.d/fleetfab.conf"]
    assert "NTP=198.18.0.1" in conf.content and conf.notify == ("restart timesyncd",)


def test_no_time_servers_keeps_the_distribution_default(desired):
    assert "absent /etc/systemd/timesyncd.conf.d/fleetfab.conf" in desired("web1")


def test_apt_proxy_is_written_only_when_set(desired):
    assert 'Acquire::http::Proxy "http://198.18.0.1:3142";' in desired("db1")["file /etc/apt/apt.conf.d/01fleetfab-proxy"].content
    assert "absent /etc/apt/apt.conf.d/01fleetfab-proxy" in desired("web1")


def test_admin_listed_twice_is_an_inventory_problem(problems):
    found = problems("""
        vars:
          base:
            admins: [{name: ops}, {name: ops}]
        hosts:
          a: {address: 198.18.0.1, roles: [base]}
    """)
    assert found == ["3: hosts.a.vars.base.admins: admin 'ops' is listed twice"]
