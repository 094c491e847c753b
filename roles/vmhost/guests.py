"""A guest as its VM host sees it: the declaration of an inventory host, resolved.

Pure: the inventory says everything (size, network, image, MAC), so the
domain's XML, its seed and the capacity check are computed without a host.
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass

from fleetfab.roles.vmhost.settings import GUEST_DEFAULTS, ROLE

UNITS = {"M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
#: the locally administered prefix QEMU and libvirt use for guests
MAC_PREFIX = "52:54:00"


def size_bytes(size: str) -> int:
    return int(size[:-1]) * UNITS[size[-1]]


def derived_mac(name: str) -> str:
    """Stable across rebuilds, so the guest's DHCP lease, ARP entries and drift never see a new one."""
    tail = hashlib.sha256(name.encode()).digest()[:3]
    return MAC_PREFIX + "".join(f":{b:02x}" for b in tail)


@dataclass(frozen=True)
class GuestSpec:
    name: str
    hypervisor: str
    address: str
    cpus: int
    memory: int  # MiB
    disk: str
    image: str
    network: str
    mac: str
    boot_timeout: int

    @property
    def disk_bytes(self) -> int:
        return size_bytes(self.disk)


def first_key(mapping: dict) -> str | None:
    return next(iter(mapping), None)


def spec_of(host, hypervisor_settings: dict) -> GuestSpec:
    vm = {**GUEST_DEFAULTS, **host.vm}
    return GuestSpec(
        name=host.name,
        hypervisor=vm["host"],
        address=host.address,
        cpus=vm["cpus"],
        memory=vm["memory"],
        disk=vm["disk"],
        image=vm.get("image") or first_key(hypervisor_settings["images"]) or "",
        network=vm.get("network") or first_key(hypervisor_settings["networks"]) or "",
        mac=vm.get("mac") or derived_mac(host.name),
        boot_timeout=vm["boot_timeout"],
    )


def guests_on(inventory, hypervisor) -> list[GuestSpec]:
    """The guests the inventory puts on `hypervisor` (a Host with the vmhost role)."""
    settings = hypervisor.settings(ROLE)
    return [spec_of(h, settings) for h in inventory.hosts.values() if h.vm and h.vm.get("host") == hypervisor.name]


def guest_network(hypervisor_settings: dict, spec: GuestSpec) -> dict:
    return hypervisor_settings["networks"].get(spec.network, {})


def network_prefix(network: dict) -> int | None:
    if not network.get("address"):
        return None
    return ipaddress.ip_interface(network["address"]).network.prefixlen


def gateway_address(network: dict) -> str | None:
    if network.get("gateway"):
        return network["gateway"]
    if network.get("address"):
        return str(ipaddress.ip_interface(network["address"]).ip)
    return None


def side_address(inventory, guest_host) -> str | None:
    """The VM host's own address on a guest's NAT network: what the guest sees
    connections through its VM host come from."""
    if not guest_host.vm or guest_host.vm.get("host") not in inventory.hosts:
        return None
    hypervisor = inventory.hosts[guest_host.vm["host"]]
    spec = spec_of(guest_host, hypervisor.settings(ROLE))
    network = guest_network(hypervisor.settings(ROLE), spec)
    if network.get("mode") != "nat" or not network.get("address"):
        return None
    return str(ipaddress.ip_interface(network["address"]).ip)
