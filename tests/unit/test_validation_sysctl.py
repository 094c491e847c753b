"""A kernel parameter is named as the kernel names it, and its name never leads out of /proc/sys."""

from __future__ import annotations

import pytest

from fleetfab.resources import Sysctl
from fleetfab.resources.line import proc_path
from tests.unit.validation_fleet import one_host

LEAVING = ["//.//.etc.passwd", "../../etc/passwd", "net/../../../etc/shadow", "net..ipv4", "net.ipv4.", "-a.b", "net", "net.ipv4.*.rp_filter"]


def test_a_sysctl_name_cannot_leave_proc_sys(problems):
    found = problems(one_host('''
        base:
          sysctls:
            "//.//.etc.passwd": 1
    '''))
    assert found == ["8: hosts.a.vars.base.sysctls.//.//.etc.passwd: key expected to be a kernel parameter's dotted name, "
                     "such as net.ipv4.ip_forward, got '//.//.etc.passwd'"]


@pytest.mark.parametrize("name", ["net.ipv4.conf.all.rp_filter", "net.bridge.bridge-nf-call-iptables", "vm.max_map_count",
                                  "net.ipv6.conf.wg0.forwarding", "net.ipv4.conf.eth0/100.forwarding"])
def test_real_parameter_names_are_accepted(name):
    assert proc_path(name).startswith("/proc/sys/")


@pytest.mark.parametrize("name", LEAVING)
def test_the_sysctl_resource_refuses_a_name_that_is_not_a_parameters(name):
    with pytest.raises(ValueError):
        Sysctl(name, 1)


@pytest.mark.parametrize("name", LEAVING)
def test_no_path_is_made_for_a_name_that_is_not_a_parameters(name):
    with pytest.raises(ValueError):
        proc_path(name)


def test_a_slash_stands_for_a_dot_inside_one_level_only():
    assert proc_path("net.ipv4.conf.eth0/100.forwarding") == "/proc/sys/net/ipv4/conf/eth0.100/forwarding"


def test_a_sysctl_value_with_a_newline_is_refused(problems):
    found = problems(one_host('''
        base: {sysctls: {net.ipv4.ip_forward: "1\\nkernel.modprobe = /tmp/x"}}
    '''))
    assert len(found) == 1 and found[0].startswith("6: hosts.a.vars.base.sysctls.net.ipv4.ip_forward: ")
    assert "control characters" in found[0]


def test_the_sysctl_resource_refuses_a_value_with_a_newline():
    with pytest.raises(ValueError):
        Sysctl("net.ipv4.ip_forward", "1\nkernel.modprobe = /tmp/x")


def test_a_yaml_boolean_is_no_sysctl_value(problems):
    found = problems(one_host("base: {sysctls: {net.ipv4.ip_forward: yes}}"))
    assert found == ["6: hosts.a.vars.base.sysctls.net.ipv4.ip_forward: expected a number or a value, got True"]


def test_a_sysctl_value_of_several_numbers_is_accepted(load):
    inventory = load(one_host("base: {sysctls: {net.ipv4.tcp_rmem: 4096 131072 6291456}}"))
    assert inventory.hosts["a"].settings("base")["sysctls"] == {"net.ipv4.tcp_rmem": "4096 131072 6291456"}
