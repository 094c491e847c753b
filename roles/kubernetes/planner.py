"""What to do next to the cluster, decided from each node's recorded state.

Pure functions: the nodes' state in (read by roles/kubernetes/cluster.py),
the ordered steps out. One node at a time, control-plane nodes before
workers, the first control-plane node first of all; a step list is run in
order and stops at the first step that fails, so "one at a time" and
"stop at the first node that is not Ready" are properties of the list:
every node's work ends with a `wait-ready` step on that node.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fleetfab.roles.kubernetes.versions import Version, upgrade_problem


class Refused(Exception):
    """The cluster is not in a state where this procedure may start; nothing was done."""


@dataclass(frozen=True)
class NodeState:
    name: str
    control_plane: bool
    #: /etc/kubernetes/admin.conf exists: this node ran `kubeadm init`
    initialised: bool = False
    #: /etc/kubernetes/kubelet.conf exists: this node is in a cluster
    joined: bool = False
    kubeadm: Version | None = None
    kubelet: Version | None = None
    #: from `kubectl get nodes`: None when the cluster could not be asked
    ready: bool | None = None
    #: False: cordoned (unschedulable); None when the cluster could not be asked
    schedulable: bool | None = None
    #: where admin.conf exists: whether a cluster kubeadm's init finished answers through it
    #: (kube-public/cluster-info readable); None where not asked
    serving: bool | None = None


@dataclass(frozen=True)
class Step:
    action: str
    #: the node the step is about
    node: str
    #: where it runs, when not on `node` (kubectl steps run on the first control-plane node)
    on: str = ""
    version: Version | None = None
    why: str = ""

    @property
    def host(self) -> str:
        return self.on or self.node


@dataclass(frozen=True)
class Cluster:
    """Every node in inventory order; the first control-plane node is `first`."""

    nodes: tuple[NodeState, ...]
    extra: dict = field(default_factory=dict)

    @property
    def first(self) -> NodeState:
        """The node `kubeadm init` runs on: the first control-plane node listed."""
        planes = [n for n in self.nodes if n.control_plane]
        if not planes:
            raise Refused("the inventory names no control-plane node")
        return planes[0]

    @property
    def exists(self) -> bool:
        return any(n.joined or n.initialised for n in self.nodes)

    def in_order(self) -> list[NodeState]:
        """The first control-plane node, the other control-plane nodes, then the workers."""
        rest = [n for n in self.nodes if n.name != self.first.name]
        return [self.first] + [n for n in rest if n.control_plane] + [n for n in rest if not n.control_plane]

    def node(self, name: str) -> NodeState:
        for n in self.nodes:
            if n.name == name:
                return n
        raise Refused(f"{name} is not a node of the cluster")


def _needs_kubeadm(node: NodeState) -> None:
    if node.kubeadm is None:
        raise Refused(f"kubeadm is not installed on {node.name}: bootstrap it first "
                      "(a source the hosts cannot reach installs nothing)")


# -- bringing the cluster up ------------------------------------------------------


def plan_up(cluster: Cluster) -> list[Step]:
    """Init once on the first control-plane node, then join each missing node, one at a time."""
    first = cluster.first
    steps: list[Step] = []
    if first.initialised and first.serving is False:
        raise Refused(f"{first.name} has admin.conf but no cluster answers through it (no kube-public/cluster-info): "
                      "a `kubeadm init` that stopped part-way leaves this (fleetfab resets an init that fails), "
                      "or the control plane is down; no node is joined to it. Bring the control plane back, "
                      "or start over with `fab kubernetes.reset --yes`")
    if not first.initialised:
        if cluster.exists:
            raise Refused(f"some nodes are in a cluster but {first.name}, the first control-plane node, "
                          "was never initialised: fleetfab will not start a second cluster")
        _needs_kubeadm(first)
        steps += [Step("init", first.name, why="no admin.conf yet"), Step("apply-cni", first.name),
                  Step("wait-ready", first.name, on=first.name)]
    for node in cluster.in_order()[1:]:
        if node.joined:
            continue
        _needs_kubeadm(node)
        action = "join-control-plane" if node.control_plane else "join-worker"
        steps += [Step(action, node.name, why="no kubelet.conf yet"), Step("wait-ready", node.name, on=first.name)]
    return steps


# -- upgrades --------------------------------------------------------------------------


def cluster_version(cluster: Cluster) -> Version:
    """The lowest kubelet version of a joined node: where the cluster stands."""
    versions = [n.kubelet for n in cluster.nodes if n.joined and n.kubelet is not None]
    if not versions:
        raise Refused("no node of the cluster reports a kubelet version: is the cluster up?")
    return min(versions)


def plan_upgrade(cluster: Cluster, target: Version) -> list[Step]:
    """kubeadm's order: snapshot, the first control plane, the others, then each worker."""
    current = cluster_version(cluster)
    problem = upgrade_problem(current, target)
    if problem:
        raise Refused(problem)
    not_ready = [n.name for n in cluster.nodes if n.joined and n.ready is False]
    if not_ready:
        raise Refused(f"not Ready before the upgrade starts: {', '.join(not_ready)}")
    first = cluster.first
    steps = [Step("snapshot", first.name, why="an etcd snapshot before anything changes")]
    for index, node in enumerate(cluster.in_order()):
        if node.kubelet is not None and node.kubelet >= target:
            if node.schedulable is False:  # an interrupted run drained it and stopped before uncordon
                steps += [Step("uncordon", node.name, on=first.name, why="upgraded but still cordoned"),
                          Step("wait-ready", node.name, on=first.name, version=target)]
            continue
        steps += _node_upgrade(node, first.name, target, apply=index == 0)
    return steps


def _node_upgrade(node: NodeState, first: str, target: Version, apply: bool) -> list[Step]:
    """One node: kubeadm, its control plane (or its kubelet config), then kubelet, drained meanwhile."""
    upgrade = Step("upgrade-apply", node.name, version=target) if apply else Step("upgrade-node", node.name)
    return [
        Step("drain", node.name, on=first),
        Step("install-kubeadm", node.name, version=target),
        upgrade,
        Step("install-kubelet", node.name, version=target),
        Step("uncordon", node.name, on=first),
        Step("wait-ready", node.name, on=first, version=target),
    ]


# -- taking nodes out -------------------------------------------------------------------


def plan_remove(cluster: Cluster, name: str) -> list[Step]:
    """kubeadm's order: drain, `kubeadm reset` on the node, then delete the Node object.

    reset finds a control-plane node's etcd member through the Node object;
    deleted first, reset skips the member (a warning, exit 0) and leaves a
    dead member in etcd."""
    node = cluster.node(name)
    if not (node.joined or node.initialised):
        raise Refused(f"{name} is in no cluster (no kubelet.conf): nothing to remove")
    planes = [n for n in cluster.nodes if n.control_plane and n.joined]
    if node.control_plane and [n.name for n in planes] == [name]:
        raise Refused(f"{name} is the cluster's last control-plane node: use kubernetes.reset to take the cluster down")
    runner = next((n.name for n in cluster.in_order() if n.control_plane and n.joined and n.name != name), None)
    if runner is None:
        raise Refused("no other control-plane node can drain and delete it")
    return [Step("drain", name, on=runner), Step("reset", name), Step("delete-node", name, on=runner)]


# -- certificates ------------------------------------------------------------------------


def plan_renew(cluster: Cluster) -> list[Step]:
    """One control-plane node at a time: renew and restart its static pods, then wait until its
    API server (and so its etcd) is ready before the next node goes down; etcd keeps its quorum."""
    steps: list[Step] = []
    for node in cluster.in_order():
        if node.control_plane and (node.joined or node.initialised):
            steps += [Step("renew-certs", node.name), Step("wait-control-plane", node.name)]
    if not steps:
        raise Refused("no control-plane node is in the cluster")
    return steps


def plan_reset(cluster: Cluster, confirmed: bool) -> list[Step]:
    """Every node reset, workers first and the first control-plane node last."""
    if not confirmed:
        raise Refused("kubernetes.reset takes the whole cluster down: pass --yes to confirm")
    return [Step("reset", n.name) for n in reversed(cluster.in_order()) if n.joined or n.initialised]
