"""The pod network: a pinned manifest kept in the project, applied once from the first control-plane node.

The manifests are templates of this project (templates/kubernetes/), not a
file fetched from a branch: the image tags below are the pin, and only the
image repository, the pod network, the mesh interface and the MTU come from
the inventory. The MTU is the smallest of every mesh member's, less VXLAN's
overhead, so a pod packet fits inside WireGuard's on every path, whichever
node sends it (the mesh lets each host set its own MTU). Calico is not
offered: its Tigera operator and CRDs would have to be kept here, pinned,
and they are several megabytes of generated YAML.
"""

from __future__ import annotations

from fleetfab.resources import Command, File
from fleetfab.shell import q
from fleetfab.roles.kubernetes import topology
from fleetfab.roles.wireguard.settings import INTERFACE

MANIFEST = "/etc/fleetfab/kubernetes/cni.yaml"
ADMIN_CONF = "/etc/kubernetes/admin.conf"
#: the tags this project's manifests were written for
PINNED = {
    "flannel": {"flannel": "v0.26.1", "flannel-cni-plugin": "v1.5.1-flannel2"},
}
KUBECTL = f"kubectl --kubeconfig={ADMIN_CONF}"


def manifest(ctx) -> str:
    s = ctx.settings
    plugin = s["cni"]["plugin"]
    return ctx.template(f"kubernetes/{plugin}.yaml.j2", repository=s["cni"]["repository"], tags=PINNED[plugin],
                        pod_cidr=s["pod_cidr"], interface=INTERFACE, mtu=topology.pod_mtu(ctx.inventory),
                        smallest=topology.smallest_mesh_mtu(ctx.inventory))


def apply_command() -> str:
    return f"{KUBECTL} apply -f {q(MANIFEST)}"


def resources(ctx):
    """On the first control-plane node: the manifest, and (once a cluster runs) what it states applied."""
    yield File(MANIFEST, manifest(ctx), mode="0600")
    # kubectl diff exits 0 when the cluster has exactly what the manifest says.
    unless = f"[ ! -e {ADMIN_CONF} ] || {KUBECTL} diff -f {q(MANIFEST)} >/dev/null"
    yield Command("apply the CNI manifest", run=apply_command(), unless=unless)
