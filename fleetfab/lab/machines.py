"""Inventory -> lab machine specs: what the Vagrantfile builds, and nothing else.

Pure, so the Vagrantfile (through `python -m fleetfab.lab machines`) and the
tests read the one inventory parser's answer instead of parsing YAML again.
"""

from __future__ import annotations

import ipaddress

DEFAULT_CPUS = 1
DEFAULT_MEMORY = 1024
DEFAULT_PREFIX = 24

# What a container needs to run systemd as PID 1 and what the roles need
# inside it: NET_ADMIN and the TUN device for WireGuard (userspace
# wireguard-go), SYS_ADMIN and an unconfined seccomp profile for systemd's
# own mounts. `--privileged` does not work here (a capability is missing from
# the bounding set), so the capabilities are named one by one.
DOCKER_CREATE_ARGS = (
    "--cap-add", "SYS_ADMIN",
    "--cap-add", "NET_ADMIN",
    "--security-opt", "seccomp=unconfined",
    "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw",
    "--tmpfs", "/run",
    "--tmpfs", "/run/lock",
    "--device", "/dev/net/tun",
)


class LabSpecError(ValueError):
    """The inventory's lab settings cannot make a machine."""


def lab_network(lab: dict, address: str) -> ipaddress.IPv4Network:
    """The lab network holding `address`: `lab.network`, else the address's /24."""
    net = ipaddress.ip_network(lab.get("network") or f"{address}/{DEFAULT_PREFIX}", strict=False)
    if ipaddress.ip_address(address) not in net:
        raise LabSpecError(f"address {address} is outside lab.network {net}")
    return net


def sizing(defaults: dict, own: dict) -> dict:
    """CPUs and memory (MiB): the host's own `lab` over the top-level `lab`."""
    return {
        "cpus": int(own.get("cpus", defaults.get("cpus", DEFAULT_CPUS))),
        "memory": int(own.get("memory", defaults.get("memory", DEFAULT_MEMORY))),
    }


def docker_args(size: dict, extra: list) -> list[str]:
    limits = ["--cpus", str(size["cpus"]), "--memory", f"{size['memory']}m"]
    return [*DOCKER_CREATE_ARGS, *limits, *map(str, extra)]


def machine(host, lab: dict, identity=None) -> dict:
    """One host's machine: address on the lab network, size, boxes, docker args."""
    net = lab_network(lab, host.address)
    own = host.lab or {}
    size = sizing(lab, own)
    return {
        "name": host.name,
        "address": host.address,
        "user": host.user,
        "identity": str(identity) if identity else None,
        "prefix": net.prefixlen,
        "netmask": str(net.netmask),
        **size,
        "boxes": {**lab.get("boxes", {}), **own.get("boxes", {})},
        "docker_args": docker_args(size, [*lab.get("docker_args", []), *own.get("docker_args", [])]),
    }


def machines(inventory) -> list[dict]:
    """Every inventory host as a lab machine, in inventory order."""
    lab = inventory.lab or {}
    identity = inventory.ssh.identity
    return [machine(host, lab, identity) for host in inventory.hosts.values()]
