"""What drift says about a running cluster: nodes NotReady or off the pinned version, certificates due.

Both read the cluster from a control-plane node in the same batched probe
as everything else, and say nothing where no cluster runs yet (no
admin.conf): a lab without kubeadm, or a fleet before `kubernetes.up`.

A node that is not Ready, or runs another version than the inventory pins,
is drift no bootstrap can repair: its change is of the `report` kind (a
bootstrap refuses it with the way out; see fleetfab.resources.base). A
certificate within the margin (or a CA, which kubeadm never renews) is
reported too, never renewed by a bootstrap: renewal restarts the control
plane and is `fab kubernetes.renew`'s, one node at a time.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from fleetfab.health import HealthCheck
from fleetfab.resources.base import Change, Resource
from fleetfab.shell import q
from fleetfab.roles.kubernetes import kubeadm
from fleetfab.roles.kubernetes.versions import Version

#: the engine's action for a difference only an operator can settle
REPORT = "report"
NO_CLUSTER = "@no-cluster"


def _guarded(command: str) -> str:
    return (f"if [ -e {kubeadm.ADMIN_CONF} ] && command -v kubectl >/dev/null 2>&1; then {command}; "
            f"else echo {NO_CLUSTER}; fi")


@dataclass(frozen=True)
class NodesHealthy(Resource):
    """Every node of the inventory is Ready, on its mesh address, at the pinned version."""

    version: str
    #: (name, mesh address) of every node the inventory has
    nodes: tuple[tuple[str, str], ...]

    @property
    def key(self) -> str:
        return "cluster nodes ready at the pinned version"

    def probe(self) -> str:
        return _guarded(f"{kubeadm.KUBECTL} get nodes -o json --request-timeout=10s 2>/dev/null || echo @unreachable")

    def problems(self, output: str) -> list[str]:
        text = output.strip()
        if text == NO_CLUSTER:
            return []
        if text == "@unreachable":
            return ["the API server did not answer kubectl"]
        statuses = kubeadm.parse_nodes(text)
        found = []
        for name, address in self.nodes:
            status = statuses.get(name)
            if status is None:
                found.append(f"{name} is not in the cluster")
                continue
            if not status.ready:
                found.append(f"{name} is NotReady ({', '.join(status.problems) or 'no reason given'})")
            if Version.parse(status.kubelet_version) != Version.parse(self.version):
                found.append(f"{name} runs {status.kubelet_version}, the inventory pins {self.version}")
            if status.internal_ip and status.internal_ip != address:
                found.append(f"{name} registered {status.internal_ip}, not its mesh address {address}")
        return found

    def compare(self, output: str) -> Change | None:
        found = self.problems(output)
        return self.change(REPORT, "; ".join(found)) if found else None

    def fix(self, change: Change) -> str:
        why = f"{change.summary}: a bootstrap cannot repair this (fab kubernetes.up, kubernetes.upgrade or kubernetes.remove)"
        return f"echo {q(why)} >&2\nexit 3\n"


@dataclass(frozen=True)
class CertificatesFresh(Resource):
    """No kubeadm-managed certificate or CA of this control-plane node expires within the margin."""

    margin_days: int

    @property
    def key(self) -> str:
        return f"control-plane certificates (renewed within {self.margin_days} days of expiry)"

    def probe(self) -> str:
        return _guarded(f"{{ kubeadm certs check-expiration -o json 2>/dev/null || kubeadm certs check-expiration 2>/dev/null "
                        "|| echo @unreadable; }")

    def compare(self, output: str, now: datetime.datetime | None = None) -> Change | None:
        """Drift only: renewal restarts the control plane, so it is `kubernetes.renew`'s, one node
        at a time, never a bootstrap's (which runs on every control-plane node at once)."""
        text = output.strip()
        if text == NO_CLUSTER:
            return None
        if text == "@unreadable":
            return self.change(REPORT, "kubeadm could not read the certificates")
        now = now or datetime.datetime.now(datetime.timezone.utc)
        told = kubeadm.certificate_warnings(kubeadm.parse_expiration(text), now, self.margin_days)
        return self.change(REPORT, "; ".join(told)) if told else None

    def fix(self, change: Change) -> str:
        return f"echo {q(change.summary)} >&2\nexit 3\n"


# -- rolling upgrades (fleetfab.upgrade): the node's own readiness, drained and back ------------

NOT_JOINED = "@not-joined"


@dataclass(frozen=True)
class NodeReady(HealthCheck):
    """This node is Ready, asked with its own kubelet's credentials (kubelet.conf may read its own Node)."""

    node: str = ""

    def probe(self) -> str:
        return (f"if [ -e {kubeadm.KUBELET_CONF} ] && command -v kubectl >/dev/null 2>&1; then "
                f"kubectl --kubeconfig={kubeadm.KUBELET_CONF} get node {q(self.node)} -o json --request-timeout=10s "
                f"2>/dev/null | head -c 1048576 || echo @unreachable; else echo {NOT_JOINED}; fi")

    def problem(self, output: str) -> str | None:
        text = output.strip()
        if text == NOT_JOINED:
            return None
        if not text or text.endswith("@unreachable"):
            return "the API server did not answer the node's own kubelet credentials"
        try:
            status = kubeadm.parse_nodes('{"items": [' + text + "]}").get(self.node)
        except kubeadm.ParseError as exc:
            return f"the node's status could not be read: {exc}"
        if status is None or not status.ready:
            return f"{self.node} is NotReady ({', '.join(status.problems) if status else 'not listed'})"
        return None

    def note(self, output: str) -> str | None:
        if output.strip() == NOT_JOINED:
            return f"{self.node} is in no cluster (no {kubeadm.KUBELET_CONF}): its readiness is not checked"
        return None


def _node_field(node: str) -> str:
    return _guarded(f"{kubeadm.KUBECTL} get node {q(node)} -o jsonpath='{{.spec.unschedulable}}' --request-timeout=10s "
                    "2>/dev/null && echo || echo @not-a-node")


def _skipped(output: str, node: str, doing: str) -> str | None:
    text = output.strip()
    if text == NO_CLUSTER:
        return (f"{doing} {node} skipped: no cluster runs ({kubeadm.ADMIN_CONF} or kubectl is missing on the "
                "control-plane node that would run it)")
    if text == "@not-a-node":
        return f"{doing} {node} skipped: the cluster has no node of that name"
    return None


@dataclass(frozen=True)
class NodeDrained(Resource):
    """`node` cordoned and its pods evicted (kubectl drain), run on the first control-plane node."""

    node: str

    @property
    def key(self) -> str:
        return f"node {self.node} out of service"

    def probe(self) -> str:
        return _node_field(self.node)

    def compare(self, output: str) -> Change | None:
        if _skipped(output, self.node, "draining"):
            return None
        return self.change("drain", f"cordon {self.node} and evict its pods")

    def note(self, output: str) -> str | None:
        return _skipped(output, self.node, "draining")

    def fix(self, change: Change) -> str:
        return kubeadm.drain_script(self.node)


@dataclass(frozen=True)
class NodeUncordoned(Resource):
    """`node` schedulable again, once it came back healthy."""

    node: str

    @property
    def key(self) -> str:
        return f"node {self.node} back in service"

    def probe(self) -> str:
        return _node_field(self.node)

    def compare(self, output: str) -> Change | None:
        if _skipped(output, self.node, "uncordoning") or output.strip() != "true":
            return None
        return self.change("uncordon", f"let pods be scheduled on {self.node} again")

    def note(self, output: str) -> str | None:
        return _skipped(output, self.node, "uncordoning")

    def fix(self, change: Change) -> str:
        return kubeadm.uncordon_script(self.node)
