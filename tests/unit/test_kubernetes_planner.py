"""The planner: each step of every cluster procedure, in order, from the nodes' recorded state."""

from __future__ import annotations

import pytest

import dataclasses

from fleetfab.roles.kubernetes.planner import Cluster, NodeState, Refused, plan_remove, plan_renew, plan_reset, plan_up, plan_upgrade
from fleetfab.roles.kubernetes.versions import Version

V131, V132, V133 = Version.parse("1.35.9"), Version.parse("1.36.4"), Version.parse("1.37.1")


def fresh(name, control_plane=False, kubeadm=V131):
    """A bootstrapped node that is in no cluster yet."""
    return NodeState(name, control_plane, kubeadm=kubeadm, kubelet=kubeadm)


def member(name, control_plane=False, version=V131, ready=True, initialised=False):
    return NodeState(name, control_plane, initialised=initialised, joined=True, kubeadm=version, kubelet=version, ready=ready)


def running(*, workers=("w1", "w2"), planes=("cp1", "cp2"), versions=None, ready=None) -> Cluster:
    versions, ready = versions or {}, ready or {}
    nodes = [member(n, True, versions.get(n, V131), ready.get(n, True), initialised=i == 0) for i, n in enumerate(planes)]
    nodes += [member(n, False, versions.get(n, V131), ready.get(n, True)) for n in workers]
    return Cluster(tuple(nodes))


def actions(steps) -> list[tuple[str, str]]:
    return [(s.action, s.node) for s in steps]


# -- up ------------------------------------------------------------------------------


def test_a_new_cluster_starts_with_init_on_the_first_control_plane_node():
    steps = plan_up(Cluster((fresh("cp1", True), fresh("w1"))))
    assert actions(steps)[0] == ("init", "cp1")


def test_the_cni_is_applied_right_after_init():
    steps = plan_up(Cluster((fresh("cp1", True), fresh("w1"))))
    assert actions(steps)[1] == ("apply-cni", "cp1")


def test_init_is_never_planned_where_admin_conf_exists():
    cluster = Cluster((member("cp1", True, initialised=True), fresh("w1")))
    assert "init" not in [s.action for s in plan_up(cluster)]


def test_a_converged_cluster_needs_no_step():
    assert plan_up(running()) == []


def test_control_plane_nodes_join_before_workers_whatever_the_inventory_order():
    cluster = Cluster((fresh("cp1", True), fresh("w1"), fresh("cp2", True)))
    joins = [a for a in actions(plan_up(cluster)) if a[0].startswith("join")]
    assert joins == [("join-control-plane", "cp2"), ("join-worker", "w1")]


def test_every_join_is_followed_by_a_wait_for_that_node_before_the_next_join():
    steps = plan_up(Cluster((member("cp1", True, initialised=True), fresh("w1"), fresh("w2"))))
    assert actions(steps) == [("join-worker", "w1"), ("wait-ready", "w1"), ("join-worker", "w2"), ("wait-ready", "w2")]


def test_waits_for_ready_run_on_the_first_control_plane_node():
    steps = plan_up(Cluster((member("cp1", True, initialised=True), fresh("w1"))))
    assert [s.host for s in steps if s.action == "wait-ready"] == ["cp1"]


def test_only_the_nodes_not_yet_joined_are_joined():
    cluster = Cluster((member("cp1", True, initialised=True), member("w1"), fresh("w2")))
    assert [n for a, n in actions(plan_up(cluster)) if a.startswith("join")] == ["w2"]


def test_after_a_failed_init_up_neither_initialises_over_it_nor_creates_join_tokens():
    half = NodeState("cp1", True, initialised=True, joined=True, kubeadm=V131, kubelet=V131, serving=False)
    with pytest.raises(Refused, match="no cluster answers through it"):
        plan_up(Cluster((half, fresh("w1"))))


def test_a_cluster_that_answers_is_joined_to():
    done = NodeState("cp1", True, initialised=True, joined=True, kubeadm=V131, kubelet=V131, serving=True)
    assert actions(plan_up(Cluster((done, fresh("w1"))))) == [("join-worker", "w1"), ("wait-ready", "w1")]


def test_a_cluster_whose_first_control_plane_was_never_initialised_is_refused():
    cluster = Cluster((fresh("cp1", True), member("w1")))
    with pytest.raises(Refused, match="never initialised"):
        plan_up(cluster)


def test_a_node_without_kubeadm_is_refused_with_its_name():
    with pytest.raises(Refused, match="kubeadm is not installed on cp1"):
        plan_up(Cluster((fresh("cp1", True, kubeadm=None),)))


def test_an_inventory_without_a_control_plane_node_is_refused():
    with pytest.raises(Refused, match="no control-plane node"):
        plan_up(Cluster((fresh("w1"),)))


# -- upgrade -----------------------------------------------------------------------


def test_an_upgrade_starts_with_an_etcd_snapshot():
    assert actions(plan_upgrade(running(), V132))[0] == ("snapshot", "cp1")


def test_upgrade_apply_runs_on_the_first_control_plane_node_only():
    steps = plan_upgrade(running(), V132)
    assert [s.node for s in steps if s.action == "upgrade-apply"] == ["cp1"]


def test_the_other_control_plane_nodes_run_upgrade_node_after_the_first():
    steps = plan_upgrade(running(), V132)
    order = actions(steps)
    assert order.index(("upgrade-node", "cp2")) > order.index(("upgrade-apply", "cp1"))


def test_workers_are_upgraded_after_every_control_plane_node():
    order = actions(plan_upgrade(running(), V132))
    last_plane = max(i for i, (a, n) in enumerate(order) if n in ("cp1", "cp2"))
    first_worker = min(i for i, (a, n) in enumerate(order) if n in ("w1", "w2"))
    assert last_plane < first_worker


def test_a_worker_is_drained_then_kubeadm_then_kubelet_then_uncordoned_then_waited_for():
    steps = [a for a, n in actions(plan_upgrade(running(), V132)) if n == "w1"]
    assert steps == ["drain", "install-kubeadm", "upgrade-node", "install-kubelet", "uncordon", "wait-ready"]


def test_one_worker_is_back_ready_before_the_next_is_drained():
    order = actions(plan_upgrade(running(), V132))
    assert order.index(("wait-ready", "w1")) < order.index(("drain", "w2"))


def test_the_wait_after_an_upgrade_checks_the_new_version():
    steps = plan_upgrade(running(), V132)
    assert {s.version for s in steps if s.action == "wait-ready"} == {V132}


def test_packages_are_installed_at_the_target_version():
    steps = plan_upgrade(running(), V132)
    assert {s.version for s in steps if s.action.startswith("install-")} == {V132}


def test_an_upgrade_that_skips_a_minor_version_is_refused():
    with pytest.raises(Refused, match="skips 1.36"):
        plan_upgrade(running(), V133)


def test_a_downgrade_is_refused():
    with pytest.raises(Refused, match="does not downgrade"):
        plan_upgrade(running(versions={n: V132 for n in ("cp1", "cp2", "w1", "w2")}), V131)


def test_an_upgrade_to_the_running_version_is_refused():
    with pytest.raises(Refused, match="already runs"):
        plan_upgrade(running(), V131)


def test_an_upgrade_does_not_start_while_a_node_is_not_ready():
    with pytest.raises(Refused, match="not Ready before the upgrade starts: w2"):
        plan_upgrade(running(ready={"w2": False}), V132)


def test_an_interrupted_upgrade_resumes_with_the_nodes_still_on_the_old_version():
    cluster = running(versions={"cp1": V132, "cp2": V132, "w1": V132})
    upgraded = {n for a, n in actions(plan_upgrade(cluster, V132)) if a != "snapshot"}
    assert upgraded == {"w2"}


def test_an_upgraded_node_a_failed_run_left_cordoned_is_uncordoned_and_waited_for():
    cluster = running(versions={"cp1": V132, "cp2": V132, "w1": V132})
    nodes = tuple(dataclasses.replace(n, schedulable=False) if n.name == "w1" else n for n in cluster.nodes)
    steps = plan_upgrade(Cluster(nodes), V132)
    assert actions(steps)[1:] == [("uncordon", "w1"), ("wait-ready", "w1"), ("drain", "w2"), ("install-kubeadm", "w2"),
                                  ("upgrade-node", "w2"), ("install-kubelet", "w2"), ("uncordon", "w2"), ("wait-ready", "w2")]
    assert steps[2].version == V132


def test_the_cluster_version_is_its_oldest_kubelet():
    cluster = running(versions={"cp1": V132, "cp2": V132, "w1": V132})
    with pytest.raises(Refused, match="skips"):
        plan_upgrade(cluster, V133)


# -- remove and reset --------------------------------------------------------------


def test_removing_a_worker_drains_resets_and_then_deletes_it():
    assert actions(plan_remove(running(), "w1")) == [("drain", "w1"), ("reset", "w1"), ("delete-node", "w1")]


def test_removing_a_control_plane_node_resets_it_while_its_node_object_still_names_its_etcd_member():
    steps = actions(plan_remove(running(planes=("cp1", "cp2", "cp3")), "cp3"))
    assert steps == [("drain", "cp3"), ("reset", "cp3"), ("delete-node", "cp3")]


def test_drain_and_delete_run_on_a_control_plane_node_and_reset_on_the_node():
    steps = plan_remove(running(), "w1")
    assert [s.host for s in steps] == ["cp1", "w1", "cp1"]


def test_removing_the_first_control_plane_node_is_driven_from_another():
    assert {s.host for s in plan_remove(running(), "cp1") if s.action != "reset"} == {"cp2"}


def test_the_last_control_plane_node_cannot_be_removed():
    with pytest.raises(Refused, match="last control-plane node"):
        plan_remove(running(planes=("cp1",)), "cp1")


def test_removing_a_node_the_inventory_does_not_know_is_refused():
    with pytest.raises(Refused, match="not a node"):
        plan_remove(running(), "stranger")


def test_removing_a_node_that_never_joined_is_refused():
    cluster = Cluster((member("cp1", True, initialised=True), fresh("w1")))
    with pytest.raises(Refused, match="w1 is in no cluster"):
        plan_remove(cluster, "w1")


def test_reset_without_confirmation_is_refused():
    with pytest.raises(Refused, match="--yes"):
        plan_reset(running(), confirmed=False)


def test_reset_takes_the_workers_down_first_and_the_first_control_plane_node_last():
    assert [n for _, n in actions(plan_reset(running(), confirmed=True))] == ["w2", "w1", "cp2", "cp1"]


def test_reset_leaves_nodes_that_never_joined_alone():
    cluster = Cluster((member("cp1", True, initialised=True), fresh("w1")))
    assert actions(plan_reset(cluster, confirmed=True)) == [("reset", "cp1")]


# -- certificates ---------------------------------------------------------------------


def test_renewal_goes_one_control_plane_node_at_a_time_each_waited_for_before_the_next():
    steps = plan_renew(running(planes=("cp1", "cp2", "cp3")))
    assert actions(steps) == [("renew-certs", "cp1"), ("wait-control-plane", "cp1"), ("renew-certs", "cp2"),
                              ("wait-control-plane", "cp2"), ("renew-certs", "cp3"), ("wait-control-plane", "cp3")]


def test_renewal_leaves_workers_alone():
    assert {n for _, n in actions(plan_renew(running()))} == {"cp1", "cp2"}
