"""Who is what in the cluster, and on which addresses, from the inventory alone.

Every node talks over the WireGuard mesh: its node-ip (and a control-plane
node's advertiseAddress) is its mesh address, derived exactly as the
wireguard role derives it, so the two roles can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from fleetfab.roles.kubernetes.settings import ENDPOINT_PORT, ROLE
from fleetfab.roles.kubernetes.versions import Version
from fleetfab.roles.wireguard.mesh import member, members

#: bytes VXLAN (Flannel's backend) adds to a packet inside the mesh
VXLAN_OVERHEAD = 50


@dataclass(frozen=True)
class Node:
    name: str
    control_plane: bool
    #: the mesh address: node-ip, and advertiseAddress on a control-plane node
    address: str
    #: the mesh interface's MTU
    mesh_mtu: int


def node(host) -> Node:
    me = member(host)
    return Node(host.name, host.name in host.settings(ROLE)["control_plane"], str(me.address), me.mtu)


def nodes(inventory) -> list[Node]:
    """Every node of the cluster, in inventory order."""
    return [node(h) for h in inventory.with_role(ROLE)]


def control_planes(inventory) -> list[Node]:
    """The control-plane nodes in the order `control_plane` names them."""
    found = {n.name: n for n in nodes(inventory) if n.control_plane}
    hosts = inventory.with_role(ROLE)
    order = hosts[0].settings(ROLE)["control_plane"] if hosts else []
    return [found[name] for name in order if name in found]


def first_control_plane(inventory) -> Node | None:
    """The node `kubeadm init` runs on: the first control-plane node of the inventory."""
    planes = control_planes(inventory)
    return planes[0] if planes else None


def smallest_mesh_mtu(inventory) -> int:
    """The smallest MTU of the mesh's members: a path is only as wide as its narrowest end."""
    return min(m.mtu for m in members(inventory))


def pod_mtu(inventory) -> int:
    """Pods' MTU, one for the whole cluster: the smallest mesh MTU less VXLAN's overhead."""
    return smallest_mesh_mtu(inventory) - VXLAN_OVERHEAD


def endpoint(settings: dict) -> str:
    """controlPlaneEndpoint: the name and port every node reaches the API at."""
    ep = settings["endpoint"]
    return f"{ep['name']}:{ep.get('port', ENDPOINT_PORT)}"


def version(settings: dict) -> Version:
    return Version.parse(settings["version"])
