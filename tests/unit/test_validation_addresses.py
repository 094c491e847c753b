"""Addresses take a zone index only when it is an interface name (Python's ipaddress takes any text after '%')."""

from __future__ import annotations

import pytest

from fleetfab.schema import Interface, IPAddress, Network
from tests.unit.validation_fleet import one_host


def test_an_ipv6_zone_index_with_a_newline_is_refused(problems):
    found = problems(one_host('''
        base: {extra_hosts: {printer: "fe80::1%eth0\\n198.18.0.9 evil"}}
    '''))
    assert found == ["6: hosts.a.vars.base.extra_hosts.printer: the zone index of 'fe80::1%eth0\\n198.18.0.9 evil' "
                     "is not an interface name (1 to 15 of A-Z, a-z, 0-9, '_', '.' and '-', not starting with '-')"]


def test_a_host_address_with_a_zone_index_that_is_no_interface_name_is_refused(problems):
    found = problems(one_host("base: {}", address='"fe80::1%eth0 evil"'))
    assert len(found) == 1 and found[0].startswith("3: hosts.a.address: the zone index of")


def test_a_zone_index_that_is_an_interface_name_is_accepted():
    assert IPAddress().refusal("fe80::1%eth0") is None
    assert IPAddress().refusal("fe80::1%br-lan.100") is None


@pytest.mark.parametrize("zone", ["-eth0", "eth0;reboot", "eth0 x", "a-name-far-too-long"])
def test_a_zone_index_that_is_not_an_interface_name_is_refused(zone):
    assert "zone index" in IPAddress().refusal(f"fe80::1%{zone}")


def test_a_network_with_a_bad_zone_index_is_refused():
    assert "zone index" in Network().refusal("fe80::%eth0\nx/64")


def test_an_interface_address_with_a_bad_zone_index_is_refused():
    assert "zone index" in Interface().refusal("fe80::1%-x/64")


def test_an_address_that_is_not_a_string_is_refused():
    assert IPAddress().refusal(3232235521) == "expected an IP address, got 3232235521"
