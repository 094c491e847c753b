"""What an inventory with guests must get right before any host is touched."""

from __future__ import annotations

import ipaddress
from collections import defaultdict

from fleetfab.inventory.yamlmarks import line_of
from fleetfab.problems import Problem
from fleetfab.roles.vmhost.guests import guests_on, spec_of
from fleetfab.roles.vmhost.settings import ROLE


def guest_problem(inventory, host, key: str, message: str) -> Problem:
    line = line_of(host.vm, key, host.line) if host.vm else host.line
    return Problem(str(inventory.path), line, f"hosts.{host.name}.vm.{key}", message)


def check_guests(inventory) -> list[Problem]:
    problems: list[Problem] = []
    guests = [h for h in inventory.hosts.values() if h.vm]
    if guests and inventory.ssh.identity is None:
        problems.append(Problem(str(inventory.path), top_level_line(inventory, "ssh"), "ssh.identity",
                                "guests need it: their first boot accepts the public half of this key"))
    for host in guests:
        problems += check_placement(inventory, host)
    if problems:
        return problems
    problems += check_macs(inventory, guests)
    for hypervisor in inventory.with_role(ROLE):
        problems += check_capacity(inventory, hypervisor)
    return problems


def top_level_line(inventory, key: str) -> int:
    """Where `key:` starts a line of the inventory file (its first line if nowhere)."""
    try:
        lines = inventory.path.read_text().splitlines()
    except OSError:
        return 1
    return next((n for n, line in enumerate(lines, 1) if line.startswith(f"{key}:")), 1)


def check_placement(inventory, host) -> list[Problem]:
    on = host.vm["host"]
    hypervisor = inventory.hosts.get(on)
    if hypervisor is None:
        return [guest_problem(inventory, host, "host", f"no host {on!r} in the inventory")]
    if not hypervisor.has_role(ROLE):
        return [guest_problem(inventory, host, "host", f"{on} does not have the vmhost role")]
    if hypervisor.vm:
        return [guest_problem(inventory, host, "host", f"{on} is itself a guest: nested guests are not supported")]
    settings = hypervisor.settings(ROLE)
    spec = spec_of(host, settings)
    problems = []
    if spec.image not in settings["images"]:
        problems.append(guest_problem(inventory, host, "image" if host.vm.get("image") else "host",
                                      f"{on} has no image {spec.image!r} (images: {', '.join(settings['images']) or 'none'})"))
    network = settings["networks"].get(spec.network)
    if network is None:
        problems.append(guest_problem(inventory, host, "network" if host.vm.get("network") else "host",
                                      f"{on} has no network {spec.network!r} (networks: {', '.join(settings['networks']) or 'none'})"))
    elif network.get("address") and ipaddress.ip_address(host.address) not in ipaddress.ip_interface(network["address"]).network:
        problems.append(Problem(str(inventory.path), host.line, f"hosts.{host.name}.address",
                                f"{host.address} is outside {on}'s network {spec.network} ({network['address']})"))
    return problems


def check_macs(inventory, guests) -> list[Problem]:
    owners: dict[str, list] = defaultdict(list)
    for host in guests:
        spec = spec_of(host, inventory.hosts[host.vm["host"]].settings(ROLE))
        owners[spec.mac].append(host)
    problems = []
    for mac, hosts in owners.items():
        for host in hosts[1:]:
            problems.append(guest_problem(inventory, host, "mac" if host.vm.get("mac") else "host",
                                          f"MAC {mac} is already {hosts[0].name}'s"))
    return problems


def check_capacity(inventory, hypervisor) -> list[Problem]:
    """Declared guests within capacity times the overcommit ratio; silent without a capacity."""
    settings = hypervisor.settings(ROLE)
    capacity = settings.get("capacity") or {}
    guests = guests_on(inventory, hypervisor)
    problems = []
    for what, unit in (("cpus", "CPUs"), ("memory", "MiB")):
        if what not in capacity:
            continue
        ratio = float(settings["overcommit"][what])
        declared = sum(getattr(g, what) for g in guests)
        allowed = capacity[what] * ratio
        if declared > allowed:
            line = line_of(capacity, what, hypervisor.line)
            problems.append(Problem(str(inventory.path), line, f"hosts.{hypervisor.name}.vars.vmhost.capacity.{what}",
                                    f"guests declare {declared} {unit}, more than {capacity[what]} x {ratio:g} "
                                    f"({', '.join(g.name for g in guests)})"))
    return problems
