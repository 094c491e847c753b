"""Inventory -> lab machine specs: what the Vagrantfile builds, and nothing else.

Pure, so the Vagrantfile (through `python -m fleetfab.lab machines`) and the
tests read the one inventory parser's answer instead of parsing YAML again.
"""

from __future__ import annotations

import ipaddress

from fleetfab.inventory.yamlmarks import line_of
from fleetfab.problems import Problem

DEFAULT_CPUS = 1
DEFAULT_MEMORY = 1024
DEFAULT_PREFIX = 24

# The docker provider's box is built by `fab lab.up` (fleetfab.lab.box) under
# this name unless `lab.boxes.docker` names another; other providers' boxes
# are downloaded by Vagrant, so only the inventory can name them.
DOCKER = "docker"
#: the Debian release a lab machine runs unless `lab.release` or its own `lab.release` says another
DEFAULT_RELEASE = "bookworm"
#: the releases the lab box is built for (fleetfab.release.SUPPORTED)
RELEASES = ("bookworm", "trixie")
DOCKER_BOX = f"fleetfab/lab-debian:{DEFAULT_RELEASE}"


def release_box(release: str) -> str:
    """The docker box `fab lab.up` builds for a Debian release."""
    return f"fleetfab/lab-debian:{release}"

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
    # A reboot inside a machine ends its PID 1: Docker starts it again, as a
    # real host comes back (an upgrade's reboot); `docker stop`/`kill` still stop it.
    "--restart", "unless-stopped",
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


def release_of(lab: dict, own: dict | None = None) -> str:
    """The Debian release of a machine: its own `lab.release`, else the lab's, else bookworm."""
    return (own or {}).get("release") or lab.get("release") or DEFAULT_RELEASE


def boxes(lab: dict, own: dict | None = None) -> dict:
    """Provider -> box: docker's own build for the lab's release, then `lab.boxes`, then the host's
    own release (its docker box), then the host's own boxes."""
    own = own or {}
    chosen = {DOCKER: release_box(release_of(lab)), **(lab.get("boxes") or {})}
    if own.get("release"):
        chosen[DOCKER] = release_box(own["release"])
    return {**chosen, **(own.get("boxes") or {})}


def docker_box(lab: dict) -> str:
    """The image the docker provider's box is built as (for machines without a release of their own)."""
    return boxes(lab)[DOCKER]


def docker_boxes(inventory) -> dict[str, str]:
    """image -> Debian release: every docker box the lab's machines use, each built for its release."""
    lab = inventory.lab or {}
    return {boxes(lab, h.lab)[DOCKER]: release_of(lab, h.lab) for h in lab_machines(inventory)}


def box_problems(inventory, provider: str) -> list[Problem]:
    """A box for every machine from the provider in use, else the problem at `lab.boxes`.

    A lab needs only its own provider's box; docker always has one (it is built).
    """
    lab = inventory.lab or {}
    made = lab_machines(inventory)
    lacking = [h.name for h in made if provider not in boxes(lab, h.lab)]
    if not lacking:
        return []
    named = ", ".join(sorted(lab.get("boxes") or {})) or "none"
    hosts = "" if len(lacking) == len(made) else f" for hosts {', '.join(lacking)}"
    message = (f"no box for provider {provider!r}{hosts} (boxes named: {named}); add lab.boxes.{provider}, "
               f"or use another provider (--provider or VAGRANT_DEFAULT_PROVIDER)")
    return [Problem(str(inventory.path), line_of(lab, "boxes"), "lab.boxes", message)]


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
        "boxes": boxes(lab, own),
        "docker_args": docker_args(size, [*lab.get("docker_args", []), *own.get("docker_args", [])]),
    }


def lab_machines(inventory) -> list:
    """The hosts Vagrant makes: all but VM guests, which their VM host makes (roles/vmhost)."""
    return [host for host in inventory.hosts.values() if host.vm is None]


def machines(inventory) -> list[dict]:
    """Every inventory host that is not a VM guest as a lab machine, in inventory order."""
    lab = inventory.lab or {}
    identity = inventory.ssh.identity
    return [machine(host, lab, identity) for host in lab_machines(inventory)]
