"""The cluster procedures, run: each node's state read, the planner's steps executed in order.

Like roles/wireguard/rotate.py, this reuses the engine rather than working
around it: connections come from fleetfab.ssh (host keys checked), every
command runs through fleetfab.remote (logged, secrets redacted), and each
node taken part in is held under the fleetfab host lock for the whole
procedure, so no bootstrap interleaves with an upgrade. The steps
themselves are planner.py's; the commands and parsers are kubeadm.py's.

The first failed step stops the procedure: nothing after it runs, and the
output says which node and step it was.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from fleetfab.redact import Redactor
from fleetfab.remote import Remote
from fleetfab.session import HostSession, as_change
from fleetfab.ssh import connect
from fleetfab.shell import q
from fleetfab.roles.kubernetes import cni, kubeadm, topology
from fleetfab.roles.kubernetes.packages import PackageSource, package_source
from fleetfab.roles.kubernetes.planner import Cluster, NodeState, Refused, Step
from fleetfab.roles.kubernetes.settings import ENDPOINT_PORT, ROLE
from fleetfab.roles.kubernetes.versions import Version


class CommandFailed(Exception):
    """A command on a node exited non-zero; the message is its redacted output."""


class StepFailed(Exception):
    def __init__(self, step: Step, why: str):
        self.step = step
        super().__init__(f"{step.action} of {step.node} (on {step.host}) failed: {why}")


@dataclass
class Operator:
    """Connections to the cluster's nodes, locked, and the one redactor their output passes through."""

    inventory: object
    purpose: str
    say: object = print
    redact: Redactor = field(default_factory=Redactor)
    remotes: dict = field(default_factory=dict)
    sessions: dict = field(default_factory=dict)
    #: where fetched files (snapshots, kubeconfig) go on the operator's machine
    fetched: list = field(default_factory=list)
    #: the upgrade's package source (from the inventory when first needed)
    source: PackageSource | None = None

    def remote(self, name: str) -> Remote:
        if name not in self.remotes:
            host = self.inventory.hosts[name]
            remote = Remote(name, connect(host, self.inventory.ssh), self.redact, sudo=host.user != "root")
            session = HostSession(remote, exclusive=True, purpose=self.purpose, timeout=self.inventory.ssh.read_timeout)
            session.acquire()
            self.remotes[name], self.sessions[name] = remote, session
        return self.remotes[name]

    def run(self, name: str, script: str, what: str) -> str:
        """A command on `name` and its output; CommandFailed with the redacted reason when it fails."""
        result = self.remote(name).run(as_change(script), ROLE, what)
        if not result.ok:
            why = self.redact((result.stderr or result.stdout).strip()[-800:] or f"exit {result.exit_code}")
            raise CommandFailed(f"{name}: {what}: {why}")
        return result.stdout

    def close(self) -> None:
        for name in list(self.remotes):
            with contextlib.suppress(Exception):
                self.sessions[name].release()
            with contextlib.suppress(Exception):
                self.remotes[name].close()
        self.remotes.clear()

    # -- reading the cluster --------------------------------------------------------

    def cluster(self) -> Cluster:
        states = []
        workers = [n for n in topology.nodes(self.inventory) if not n.control_plane]
        for node in topology.control_planes(self.inventory) + workers:
            facts = kubeadm.parse_state(self.run(node.name, kubeadm.state_script(), "read the node's kubeadm state"))
            serving = {"yes": True, "no": False}.get(facts.get("serving", ""))
            states.append(NodeState(node.name, node.control_plane, facts.get("admin_conf") == "yes",
                                    facts.get("kubelet_conf") == "yes", _version(facts.get("kubeadm")),
                                    _version(facts.get("kubelet")), serving=serving))
        cluster = Cluster(tuple(states))
        statuses = self.node_statuses(cluster)
        if statuses is not None:
            cluster = Cluster(tuple(_with_ready(s, statuses) for s in states))
        return cluster

    def running_cluster(self) -> Cluster:
        """The cluster, refused when its first control-plane node was never initialised."""
        cluster = self.cluster()
        if not cluster.first.initialised:
            raise Refused(f"no cluster runs: {kubeadm.ADMIN_CONF} is absent on {cluster.first.name} "
                          "(bring it up with `fab kubernetes.up`)")
        return cluster

    def node_statuses(self, cluster: Cluster) -> dict | None:
        first = cluster.first
        if not first.initialised or first.serving is False:
            return None
        return kubeadm.parse_nodes(self.run(first.name, kubeadm.nodes_script(), "kubectl get nodes"))

    # -- running steps -----------------------------------------------------------------------

    def execute(self, steps: list[Step], cluster: Cluster) -> None:
        for step in steps:
            self.say(f"[{step.host}] {step.action} {step.node}{' ' + str(step.version) if step.version else ''}")
            try:
                self.one(step, cluster)
            except Exception as exc:
                raise StepFailed(step, self.redact(str(exc))) from None

    @property
    def package_source(self) -> PackageSource:
        """Where upgraded packages come from: the inventory's per-minor repository, or its bundle."""
        if self.source is None:
            self.source = package_source(self.inventory, self.inventory.with_role(ROLE)[0].settings(ROLE))
        return self.source

    def api_port(self) -> int:
        if self.inventory is None:
            return ENDPOINT_PORT
        return self.inventory.with_role(ROLE)[0].settings(ROLE)["endpoint"].get("port", ENDPOINT_PORT)

    def one(self, step: Step, cluster: Cluster) -> None:
        scripts = {
            "init": kubeadm.init_script, "apply-cni": lambda: f"set -e\n{cni.apply_command()}\n",
            "drain": lambda: kubeadm.drain_script(step.node), "uncordon": lambda: kubeadm.uncordon_script(step.node),
            "delete-node": lambda: kubeadm.delete_node_script(step.node), "reset": kubeadm.reset_script,
            "install-kubeadm": lambda: kubeadm.upgrade_kubeadm_script(step.version, self.package_source),
            "install-kubelet": lambda: kubeadm.upgrade_kubelet_script(step.version, self.package_source),
            "upgrade-node": kubeadm.upgrade_node_script, "renew-certs": kubeadm.renew_script,
            "wait-control-plane": lambda: kubeadm.wait_control_plane_script(self.api_port()),
        }
        if step.action in scripts:
            self.run(step.host, scripts[step.action](), f"{step.action} {step.node}")
        elif step.action in ("join-worker", "join-control-plane"):
            self.join(cluster.first.name, step)
        elif step.action == "wait-ready":
            self.wait_ready(step)
        elif step.action == "upgrade-apply":
            self.upgrade_apply(step)
        elif step.action == "snapshot":
            self.snapshot(step.node)
        else:
            raise Refused(f"unknown step {step.action}")

    def join(self, first: str, step: Step) -> None:
        """A fresh token (and, for a control-plane node, a fresh certificate key), used at once."""
        join = kubeadm.parse_join_command(self.run(first, kubeadm.print_join_script(), "create a join token"))
        self.redact.add(join.token)
        key = None
        if step.action == "join-control-plane":
            key = kubeadm.parse_certificate_key(self.run(first, kubeadm.upload_certs_script(), "upload certificates"))
            self.redact.add(key)
        join = kubeadm.JoinCommand(join.endpoint, join.token, join.ca_hashes, key is not None, key)
        self.run(step.node, kubeadm.join_script(join), f"kubeadm join {step.node}")

    def upgrade_apply(self, step: Step) -> None:
        """`kubeadm upgrade plan` first, as kubeadm's own preflight: apply runs only once it passed."""
        self.run(step.node, kubeadm.upgrade_plan_script(step.version), "kubeadm upgrade plan")
        self.run(step.node, kubeadm.upgrade_apply_script(step.version), f"kubeadm upgrade apply {step.version.tag}")

    def wait_ready(self, step: Step) -> None:
        self.run(step.host, kubeadm.wait_ready_script(step.node, step.version), f"wait for {step.node} Ready")
        status = kubeadm.parse_nodes(self.run(step.host, kubeadm.nodes_script(), "kubectl get nodes")).get(step.node)
        if status is None or not status.ready:
            raise RuntimeError(f"{step.node} is not Ready: {', '.join(status.problems) if status else 'not listed'}")
        if step.version is not None and Version.parse(status.kubelet_version) != step.version:
            raise RuntimeError(f"{step.node} came back on {status.kubelet_version}, not {step.version}")

    def snapshot(self, node: str, keep_in: Path | None = None) -> Path:
        """An etcd snapshot on the node, and a copy on the operator's machine."""
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        remote_path = self.run(node, kubeadm.snapshot_script(node, stamp), "etcd snapshot").strip().splitlines()[-1]
        folder = keep_in or snapshot_folder(self.inventory)
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        local = folder / f"{node}-{Path(remote_path).name}"
        size = int(self.run(node, f"stat -c %s {q(remote_path)}", "etcd snapshot size").strip() or 0)
        fetch(self.remote(node), remote_path, local, size)
        self.fetched.append(local)
        self.say(f"[{node}] etcd snapshot kept at {remote_path} and copied to {local}")
        return local


class FetchFailed(Exception):
    """A file could not be read from a node in full."""


def fetch(remote: Remote, path: str, local: Path, size: int) -> None:
    """A root-only file of the node, read through the same sudo shell as every command (a non-root
    login cannot read it itself, so SFTP as the login user would fail), written here mode 600.
    At most `size` bytes are taken: a node that keeps sending is cut off."""
    channel = remote.open_channel(f"cat -- {q(path)}", f"read {path}")
    taken = 0
    fd = os.open(local, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            stream = channel.makefile("rb")
            while taken <= size and (chunk := stream.read(min(1 << 20, size + 1 - taken))):
                out.write(chunk)
                taken += len(chunk)
        code = channel.recv_exit_status() if taken <= size else -1
    finally:
        channel.close()
    if code != 0 or taken != size:
        local.unlink(missing_ok=True)
        raise FetchFailed(f"{remote.name}: {path}: read {taken} of {size} bytes (exit {code})")


def snapshot_folder(inventory) -> Path:
    return Path(inventory.path).resolve().parent / ".fleetfab" / "etcd-snapshots"


def _version(text: str | None) -> Version | None:
    try:
        return Version.parse(text) if text and text != "none" else None
    except ValueError:
        return None


def _with_ready(state: NodeState, statuses: dict) -> NodeState:
    status = statuses.get(state.name)
    return dataclasses.replace(state, ready=None if status is None else status.ready,
                               schedulable=None if status is None else status.schedulable)


def json_safe(certs) -> list[dict]:
    """Certificates as JSON for `fab kubernetes.certs --json`."""
    return [{"name": c.name, "expires": c.expires.isoformat() if c.expires else None, "authority": c.authority,
             "missing": c.missing, "externally_managed": c.externally_managed} for c in certs]


def dumps(value) -> str:
    return json.dumps(value, indent=2, sort_keys=True)
