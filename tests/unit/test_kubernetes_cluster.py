"""The cluster executor: which node each step runs on, in which order, and that secrets stay secret.

The nodes are stood in for by canned answers of kubeadm and kubectl (the
same samples as test_kubernetes_kubeadm.py); the procedures against real
nodes are in tests/infra and tests/faults.
"""

from __future__ import annotations

import pytest

from fleetfab.roles.kubernetes.cluster import CommandFailed, Operator, StepFailed
from fleetfab.roles.kubernetes.planner import Cluster, NodeState, Step, plan_remove, plan_renew, plan_up
from fleetfab.roles.kubernetes.versions import Version
from tests.unit.test_kubernetes_kubeadm import KEY, PRINTED, SOURCE, TOKEN, UPLOAD_CERTS, node, node_list

V131 = Version.parse("1.35.9")


class Recorded(Operator):
    """An Operator whose commands are answered from a script of canned outputs."""

    def __init__(self, answers, fail_on=()):
        super().__init__(inventory=None, purpose="test", say=lambda text: None, source=SOURCE)
        self.answers, self.fail_on, self.ran = answers, fail_on, []

    def run(self, name, script, what):
        self.ran.append((name, what, script))
        if what in self.fail_on:
            raise CommandFailed(f"{what} failed")
        for fragment, answer in self.answers.items():
            if fragment in script:
                return answer
        return ""


def ready_nodes(*names):
    return node_list(*(node(n, ip=f"100.64.0.{i + 10}") for i, n in enumerate(names)))


def cluster_of(*nodes):
    return Cluster(tuple(nodes))


FIRST = NodeState("cp1", True, initialised=True, joined=True, kubeadm=V131, kubelet=V131, ready=True)


def test_a_worker_join_asks_the_first_control_plane_node_for_a_token_then_joins_on_the_worker():
    op = Recorded({"--print-join-command": PRINTED, "get nodes -o json": ready_nodes("cp1", "w1")})
    cluster = cluster_of(FIRST, NodeState("w1", False, kubeadm=V131))
    op.execute(plan_up(cluster), cluster)
    assert [(n, w) for n, w, _ in op.ran if w in ("create a join token", "kubeadm join w1")] == [
        ("cp1", "create a join token"), ("w1", "kubeadm join w1")]


def test_a_control_plane_join_uploads_a_fresh_certificate_key_just_before_joining():
    op = Recorded({"--print-join-command": PRINTED, "upload-certs": UPLOAD_CERTS, "get nodes -o json": ready_nodes("cp1", "cp2")})
    cluster = cluster_of(FIRST, NodeState("cp2", True, kubeadm=V131))
    op.execute(plan_up(cluster), cluster)
    whats = [w for _, w, _ in op.ran]
    assert whats.index("upload certificates") + 1 == whats.index("kubeadm join cp2")
    join_script = next(s for _, w, s in op.ran if w == "kubeadm join cp2")
    assert KEY in join_script and TOKEN in join_script


def test_the_token_and_certificate_key_are_redacted_as_soon_as_they_are_read():
    op = Recorded({"--print-join-command": PRINTED, "upload-certs": UPLOAD_CERTS, "get nodes -o json": ready_nodes("cp1", "cp2")})
    cluster = cluster_of(FIRST, NodeState("cp2", True, kubeadm=V131))
    op.execute(plan_up(cluster), cluster)
    assert op.redact(f"{TOKEN} {KEY}") == "<redacted> <redacted>"


def test_the_first_failed_step_stops_everything_after_it_and_names_the_step():
    op = Recorded({"--print-join-command": PRINTED, "get nodes -o json": ready_nodes("cp1", "w1", "w2")}, fail_on=("kubeadm join w1",))
    cluster = cluster_of(FIRST, NodeState("w1", False, kubeadm=V131), NodeState("w2", False, kubeadm=V131))
    with pytest.raises(StepFailed, match="join-worker of w1"):
        op.execute(plan_up(cluster), cluster)
    assert "kubeadm join w2" not in [w for _, w, _ in op.ran]


def test_a_node_that_is_not_ready_after_its_join_stops_the_procedure():
    notready = node_list(node("cp1"), node("w1", ready="False"))
    op = Recorded({"--print-join-command": PRINTED, "get nodes -o json": notready})
    cluster = cluster_of(FIRST, NodeState("w1", False, kubeadm=V131), NodeState("w2", False, kubeadm=V131))
    with pytest.raises(StepFailed, match="w1 is not Ready"):
        op.execute(plan_up(cluster), cluster)
    assert "kubeadm join w2" not in [w for _, w, _ in op.ran]


def test_a_node_back_on_the_wrong_version_fails_its_wait():
    op = Recorded({"get nodes -o json": node_list(node("w1", version="v1.35.9"))})
    with pytest.raises(StepFailed, match="came back on v1.35.9, not 1.36.4"):
        op.execute([Step("wait-ready", "w1", on="cp1", version=Version.parse("1.36.4"))], cluster_of(FIRST))


def test_kubectl_steps_run_on_the_named_host_and_node_steps_on_the_node():
    op = Recorded({})
    op.execute([Step("drain", "w1", on="cp1"), Step("install-kubeadm", "w1", version=V131)], cluster_of(FIRST))
    assert [(n, w) for n, w, _ in op.ran] == [("cp1", "drain w1"), ("w1", "install-kubeadm w1")]


def test_upgrade_apply_runs_only_after_kubeadms_plan_passed():
    op = Recorded({})
    op.execute([Step("upgrade-apply", "cp1", version=Version.parse("1.36.4"))], cluster_of(FIRST))
    assert [w for _, w, _ in op.ran] == ["kubeadm upgrade plan", "kubeadm upgrade apply v1.36.4"]


def test_a_failed_plan_stops_the_upgrade_before_apply():
    op = Recorded({}, fail_on=("kubeadm upgrade plan",))
    with pytest.raises(StepFailed, match="upgrade-apply of cp1"):
        op.execute([Step("upgrade-apply", "cp1", version=Version.parse("1.36.4"))], cluster_of(FIRST))
    assert "kubeadm upgrade apply v1.36.4" not in [w for _, w, _ in op.ran]


def test_an_upgrade_of_a_node_across_a_minor_switches_its_source_in_the_same_script_as_the_install():
    op = Recorded({})
    op.execute([Step("install-kubeadm", "w1", version=Version.parse("1.36.4"))], cluster_of(FIRST))
    [(_, _, script)] = op.ran
    assert script.index("v1.36/deb/") < script.index("apt-get -q update") < script.index("kubeadm=1.36.4-*")


def test_renewal_restarts_one_node_and_waits_for_its_api_server_before_the_next():
    op = Recorded({})
    cp2 = NodeState("cp2", True, joined=True, kubeadm=V131, kubelet=V131, ready=True)
    cluster = cluster_of(FIRST, cp2)
    op.execute(plan_renew(cluster), cluster)
    assert [(n, w) for n, w, _ in op.ran] == [("cp1", "renew-certs cp1"), ("cp1", "wait-control-plane cp1"),
                                              ("cp2", "renew-certs cp2"), ("cp2", "wait-control-plane cp2")]
    assert "https://127.0.0.1:6443/readyz" in op.ran[1][2]


def test_a_node_whose_api_server_does_not_come_back_stops_the_renewal_there():
    op = Recorded({}, fail_on=("wait-control-plane cp1",))
    cp2 = NodeState("cp2", True, joined=True, kubeadm=V131, kubelet=V131, ready=True)
    with pytest.raises(StepFailed, match="wait-control-plane of cp1"):
        op.execute(plan_renew(cluster_of(FIRST, cp2)), cluster_of(FIRST, cp2))
    assert "renew-certs cp2" not in [w for _, w, _ in op.ran]


def test_a_removal_resets_the_node_before_its_node_object_is_deleted():
    op = Recorded({})
    cp2 = NodeState("cp2", True, joined=True, kubeadm=V131, kubelet=V131, ready=True)
    cp3 = NodeState("cp3", True, joined=True, kubeadm=V131, kubelet=V131, ready=True)
    cluster = cluster_of(FIRST, cp2, cp3)
    op.execute(plan_remove(cluster, "cp3"), cluster)
    assert [(n, w) for n, w, _ in op.ran] == [("cp1", "drain cp3"), ("cp3", "reset cp3"), ("cp1", "delete-node cp3")]
