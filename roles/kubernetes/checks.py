"""Fleet-wide checks of the kubernetes settings: every problem at its file, line and field."""

from __future__ import annotations

import ipaddress

from fleetfab.problems import Problem
from fleetfab.role import settings_problem
from fleetfab.roles.kubernetes.packages import resolve
from fleetfab.roles.kubernetes.settings import ROLE
from fleetfab.roles.kubernetes.versions import NEWEST, OLDEST, Version, supported

#: values that describe the cluster, so every node must state the same
CLUSTER_WIDE = ("control_plane", "version", "cluster_name", "dns_domain", "pod_cidr", "service_cidr", "endpoint", "cni", "images")


def problems(inventory) -> list[Problem]:
    hosts = inventory.with_role(ROLE)
    if not hosts:
        return []
    # Cluster-wide values are checked on the first node; the others must agree with it.
    found = cluster_problems(inventory, hosts[0]) + control_plane_problems(inventory, hosts[0])
    for host in hosts:
        found += host_problems(inventory, host)
    found += agreement_problems(inventory, hosts)
    return _once(found)


def _once(found: list[Problem]) -> list[Problem]:
    """A value set on a group is one mistake, however many hosts inherit it."""
    seen, kept = set(), []
    for problem in found:
        where = (problem.file, problem.line, problem.field.split(".vars.", 1)[-1], problem.message)
        if where not in seen:
            seen.add(where)
            kept.append(problem)
    return kept


def cluster_problems(inventory, host) -> list[Problem]:
    version = Version.parse(host.settings(ROLE)["version"])
    found = []
    if not supported(version):
        found.append(settings_problem(inventory, host, ROLE, "version",
                                      f"{version} is not supported: upstream supports 1.{OLDEST} to 1.{NEWEST} (and fleetfab knows their sandbox images)"))
    return found + network_problems(inventory, host)


def control_plane_problems(inventory, host) -> list[Problem]:
    names = host.settings(ROLE)["control_plane"]
    members = {h.name for h in inventory.with_role(ROLE)}
    found = [settings_problem(inventory, host, ROLE, "control_plane", f"{name} is not a host with the kubernetes role")
             for name in names if name not in members]
    if not names:
        found.append(settings_problem(inventory, host, ROLE, "control_plane", "the cluster needs a control-plane node"))
    found += [settings_problem(inventory, host, ROLE, "control_plane", f"{name} is listed twice")
              for name in sorted({n for n in names if names.count(n) > 1})]
    return found


def host_problems(inventory, host) -> list[Problem]:
    s = host.settings(ROLE)
    found = []
    if "wireguard" not in host.roles:
        found.append(Problem(str(inventory.path), host.line, f"hosts.{host.name}.roles",
                             "a kubernetes node needs the wireguard role: its node-ip is its mesh address"))
    found += source_problems(inventory, host)
    archives = s["images"].get("archives")
    if archives and not resolve(inventory, archives).is_dir():
        found.append(settings_problem(inventory, host, ROLE, "images", f"no folder {resolve(inventory, archives)} on this machine"))
    return found


def network_problems(inventory, host) -> list[Problem]:
    s = host.settings(ROLE)
    pods, services = ipaddress.ip_network(s["pod_cidr"]), ipaddress.ip_network(s["service_cidr"])
    found = []
    if pods.overlaps(services):
        found.append(settings_problem(inventory, host, ROLE, "service_cidr", f"{services} overlaps the pod network {pods}"))
    mesh = host.settings("wireguard").get("network") if "wireguard" in host.roles else None
    for key, net in (("pod_cidr", pods), ("service_cidr", services)):
        if mesh and net.overlaps(ipaddress.ip_network(mesh)):
            found.append(settings_problem(inventory, host, ROLE, key, f"{net} overlaps the WireGuard mesh {mesh}"))
    return found


def source_problems(inventory, host) -> list[Problem]:
    source = host.settings(ROLE)["source"]
    needed = ("url", "key") if source["kind"] == "repository" else ("path",)
    found = [settings_problem(inventory, host, ROLE, "source", f"kind {source['kind']} needs `{k}`")
             for k in needed if not source.get(k)]
    for key in ("key", "path"):
        if source.get(key) and key in needed and not resolve(inventory, source[key]).exists():
            found.append(settings_problem(inventory, host, ROLE, "source", f"{key}: no {resolve(inventory, source[key])} on this machine"))
    return found


def agreement_problems(inventory, hosts) -> list[Problem]:
    """A node that disagrees with the first node on a cluster-wide value."""
    if not hosts:
        return []
    first = hosts[0].settings(ROLE)
    return [settings_problem(inventory, h, ROLE, key, f"differs from {hosts[0].name}'s: the whole cluster shares one value")
            for h in hosts[1:] for key in CLUSTER_WIDE if h.settings(ROLE).get(key) != first.get(key)]
