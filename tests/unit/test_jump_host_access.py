"""A jump host lets fleetfab's accounts through to the hosts behind it, at their SSH ports only,
and the lab's ssh_config follows the same chain (ProxyJump)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetfab.lab.sshconfig import render
from fleetfab.role import RoleContext
from tests.unit.debian_releases import BOOKWORM
from fleetfab.roles.base import SSHD_DROP_IN, Base

FLEET = """
    ssh: {jump: bastion}
    vars:
      base:
        admins:
          - {name: ops}
          - {name: auditor, sudo: false}
    groups:
      all: {roles: [base]}
    hosts:
      bastion: {address: 198.18.0.1, groups: [all]}
      inner: {address: 198.18.0.2, groups: [all]}
      web: {address: 198.18.0.3, groups: [all], jump: inner}
"""


@pytest.fixture
def fleet(load):
    return load(FLEET)


def sshd_config(inventory, name: str) -> str:
    ctx = RoleContext(inventory, inventory.hosts[name], "base", release=BOOKWORM)
    return next(r for r in Base().resources(ctx) if r.key == f"file {SSHD_DROP_IN}").content


def test_a_jump_host_opens_only_the_ssh_ports_of_the_hosts_it_reaches(fleet):
    text = sshd_config(fleet, "bastion")
    assert "Match User ops,root\n\tAllowTcpForwarding local\n\tPermitOpen 198.18.0.2:22\n" in text


def test_a_jump_host_in_the_middle_of_a_chain_opens_the_next_hop(fleet):
    assert "PermitOpen 198.18.0.3:22\n" in sshd_config(fleet, "inner")


def test_a_host_nothing_is_reached_through_forwards_nothing(fleet):
    text = sshd_config(fleet, "web")
    assert "AllowTcpForwarding no\n" in text and "Match User" not in text


def test_the_lab_ssh_config_follows_the_jump_chain(fleet):
    text = render(fleet, Path("/k"), Path("/kh"))
    assert "Host web\n  ProxyJump inner\n" in text and "Host inner\n  ProxyJump bastion\n" in text
    assert "Host bastion\n  HostName" in text
