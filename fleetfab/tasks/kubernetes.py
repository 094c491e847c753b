"""Kubernetes tasks: the cluster brought up, upgraded, backed up and taken apart.

The work is in roles/kubernetes/tasks.py; each procedure reads the nodes,
asks roles/kubernetes/planner.py for its steps and runs them one at a time.
"""

from invoke import Exit, task

from fleetfab.cli.executor import selected_hosts


def _finish(code: int) -> None:
    if code:
        raise Exit(code=code)


@task
def up(c):
    """kubeadm init on the first control-plane node (once), then join every missing node, one at a time."""
    from fleetfab.roles.kubernetes.tasks import up as run

    _finish(run(selected_hosts(c)))


@task(help={"to": "optional: must equal the inventory's kubernetes.version, which is set first"})
def upgrade(c, to=None):
    """To the inventory's version: etcd snapshot, then kubeadm's order node by node; stops at the first node not Ready."""
    from fleetfab.roles.kubernetes.tasks import upgrade as run

    _finish(run(selected_hosts(c), to))


@task(help={"json": "also write every certificate's expiry as JSON to this path"})
def certs(c, json=None):
    """Each control-plane certificate's expiry; exit 2 when one (or a CA) is within cert_margin_days."""
    from fleetfab.roles.kubernetes.tasks import certs as run

    _finish(run(selected_hosts(c), json))


@task
def renew(c):
    """kubeadm certs renew all, one control-plane node at a time, each back to ready before the next."""
    from fleetfab.roles.kubernetes.tasks import renew as run

    _finish(run(selected_hosts(c)))


@task
def backup(c):
    """An etcd snapshot on the first control-plane node, copied to the operator's machine."""
    from fleetfab.roles.kubernetes.tasks import backup as run

    _finish(run(selected_hosts(c)))


@task
def remove(c):
    """-H NODE: drain it, kubeadm reset it (its etcd member too), then delete it; its CNI and iptables state cleaned."""
    from fleetfab.roles.kubernetes.tasks import remove as run

    _finish(run(selected_hosts(c)))


@task(help={"yes": "confirm: every node of the cluster is reset"})
def reset(c, yes=False):
    """Take the whole cluster down (workers first); refused without --yes."""
    from fleetfab.roles.kubernetes.tasks import reset as run

    _finish(run(selected_hosts(c), yes))


@task(help={"path": "where to write it (default ~/.kube/fleetfab-<cluster>.conf)"})
def kubeconfig(c, path=None):
    """The cluster's admin kubeconfig, pointing at the endpoint name, written with mode 600."""
    from fleetfab.roles.kubernetes.tasks import kubeconfig as run

    _finish(run(selected_hosts(c), path or "~/.kube/fleetfab-kubernetes.conf"))
