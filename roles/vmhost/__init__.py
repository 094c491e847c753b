"""The vmhost role: libvirt/KVM hosts that carry inventory hosts as guests.

A guest is an inventory host with `vm: {host: HOST, ...}`. Its VM host defines
it from the inventory (a qcow2 overlay on a base image, a cloud-init seed
with its address and keys, a libvirt domain), and the engine, once the VM
host is done, waits for the guest's SSH host keys on its serial console
(fleetfab/keysource.py, `host_keys` below) and then brings the guest to its
own roles in the same run (fleetfab/runner.py orders it after its VM host).
"""

from __future__ import annotations

from fleetfab.resources import Command, Directory, File, Packages, Service
from fleetfab.keysource import KeySource
from fleetfab.role import Role
from fleetfab.templates import render
from fleetfab.roles.vmhost.checks import check_guests
from fleetfab.roles.vmhost.console import console_keys_script
from fleetfab.roles.vmhost.domain import Domain, UnknownGuests
from fleetfab.roles.vmhost.guests import guest_network, guests_on, spec_of
from fleetfab.roles.vmhost.images import image_path, image_resources
from fleetfab.roles.vmhost.layout import Layout
from fleetfab.roles.vmhost.libvirt import XML_DIR, BridgePresent, Defined, validated
from fleetfab.roles.vmhost.seed import SeedIso
from fleetfab.roles.vmhost.seedfiles import seed_files
from fleetfab.roles.vmhost.settings import DEFAULTS, ROLE, SETTINGS

PACKAGES = ("libvirt-daemon-system", "libvirt-clients", "libxml2-utils", "qemu-system-x86", "qemu-utils", "genisoimage",
            "dnsmasq-base", "iptables")
POOL = "fleetfab"
QEMU_CONF = "/etc/libvirt/qemu.conf"


def bridge_name(network: str) -> str:
    return f"fl-{network}"[:15]


class VmHost(Role):
    name = ROLE
    after = ("base",)
    settings = SETTINGS
    defaults = DEFAULTS

    def check(self, inventory):
        return check_guests(inventory)

    def host_keys(self, inventory, host):
        """A guest's keys, as cloud-init printed them on its serial console at its last boot."""
        if not host.vm or host.vm.get("host") not in inventory.hosts:
            return None
        hypervisor = inventory.hosts[host.vm["host"]]
        spec = spec_of(host, hypervisor.settings(ROLE))
        console = Layout.of(hypervisor.settings(ROLE)).console(host.name)
        return KeySource(hypervisor.name, console_keys_script(console), spec.boot_timeout)

    def gateways(self, inventory):
        """Guests on a NAT network are reached through their VM host."""
        found = {}
        for hypervisor in inventory.with_role(ROLE):
            for guest in guests_on(inventory, hypervisor):
                if guest_network(hypervisor.settings(ROLE), guest).get("mode") == "nat":
                    found[guest.name] = hypervisor.name
        return found

    def resources(self, ctx):
        s, layout = ctx.settings, Layout.of(ctx.settings)
        yield Packages(PACKAGES)
        if s["in_container"]:
            yield without_mount_namespaces()
        yield Service("libvirtd")
        for folder in (layout.root, layout.images, layout.disks, layout.seeds):
            yield Directory(folder, mode="0711")
        yield Directory(XML_DIR, mode="0700")
        yield from self.pool(ctx, layout)
        for name, network in s["networks"].items():
            yield from self.network(ctx, name, network)
        for name, image in s["images"].items():
            yield from image_resources(ctx.inventory, name, image, layout.images, layout.disks)
        guests = guests_on(ctx.inventory, ctx.host)
        for guest in guests:
            yield from self.guest(ctx, layout, guest)
        yield UnknownGuests(tuple(g.name for g in guests))

    def pool(self, ctx, layout):
        xml = f"{XML_DIR}/pool-{POOL}.xml"
        yield File(xml, render("vmhost/pool.xml.j2", name=POOL, pool={**ctx.settings["pool"], "path": layout.root}),
                   validate=validated("storagepool"))
        yield Defined("pool", POOL, xml)

    def network(self, ctx, name, network):
        if network["mode"] == "bridge":
            # A bridge over the host's own interface carries its SSH: fleetfab
            # joins guests to a bridge the operator made, and never makes one.
            yield BridgePresent(network["bridge"])
            values = {"name": name, "network": network}
        else:
            from ipaddress import ip_interface

            address = ip_interface(network["address"])
            values = {"name": name, "network": network, "bridge": bridge_name(name),
                      "ip": str(address.ip), "prefix": address.network.prefixlen}
        xml = f"{XML_DIR}/network-{name}.xml"
        yield File(xml, render("vmhost/network.xml.j2", **values), validate=validated("network"))
        yield Defined("net", name, xml)

    def guest(self, ctx, layout, guest):
        s = ctx.settings
        image = s["images"][guest.image]
        network = guest_network(s, guest)
        seed = layout.seed(guest.name)
        if ctx.inventory.ops_copy:
            yield SeedIso(seed, (), compared=False)
        else:
            yield SeedIso(seed, seed_files(ctx.inventory, guest, network))
        boot = {"kernel": image_path(layout.images, guest.image, "kernel") if image.get("kernel") else None,
                "initrd": image_path(layout.images, guest.image, "initrd") if image.get("initrd") else None,
                "cmdline": image.get("cmdline") or "root=/dev/vda console=ttyS0"}
        xml = f"{XML_DIR}/domain-{guest.name}.xml"
        yield File(xml, render("vmhost/domain.xml.j2", guest=guest, image=boot, network=network,
                                     emulation=s["emulation"], disk=layout.disk(guest.name), seed=seed,
                                     console=layout.console(guest.name)),
                   validate=validated("domain"))
        attachment = network["bridge"] if network["mode"] == "bridge" else guest.network
        yield Domain(guest, xml, layout.disk(guest.name), image_path(layout.images, guest.image), attachment,
                     layout.console(guest.name))


def without_mount_namespaces() -> Command:
    """libvirt in a container cannot give QEMU mount namespaces of its own (LAB-FACTS):
    the setting goes in before any guest starts, with libvirtd restarted right away."""
    return Command("qemu without mount namespaces (libvirt in a container)",
                   run=f"echo 'namespaces = []' >> {QEMU_CONF}\nsystemctl restart libvirtd",
                   unless=f"grep -qx 'namespaces = \\[\\]' {QEMU_CONF}")
