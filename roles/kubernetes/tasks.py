"""The bodies of `fab kubernetes.*`: load the inventory, read the cluster, plan, run, report.

Each returns an exit code: 0 done, 1 failed or refused (with the reason
printed), so a scheduler can run `kubernetes.certs` as a check.
"""

from __future__ import annotations

import datetime
import json
import os
from pathlib import Path

from fleetfab.text import one_line, printable
from fleetfab.cli import exitcodes
from fleetfab.cli.commands import consoles, load_or_explain
from fleetfab.report.jsonfile import write_report
from fleetfab.roles.kubernetes import kubeadm, planner, topology
from fleetfab.errors import describe_error
from fleetfab.roles.kubernetes.cluster import CommandFailed, Operator, StepFailed, dumps, json_safe
from fleetfab.roles.kubernetes.planner import Refused
from fleetfab.roles.kubernetes.settings import ROLE
from fleetfab.roles.kubernetes.versions import Version


def _operate(purpose: str, hosts: str | None, work, json_path: str | None = None) -> int:
    """Run `work(operator, inventory, selected)`, turning refusals and failures into an exit code."""
    out, err = consoles(json_path)
    loaded = load_or_explain(err, hosts)
    if loaded is None:
        return exitcodes.FAILED
    inventory, selected = loaded
    if not inventory.with_role(ROLE):
        err.print("no host of the inventory has the kubernetes role", style="bold red")
        return exitcodes.FAILED
    operator = Operator(inventory, purpose, say=lambda text: out.print(printable(text), markup=False, highlight=False))
    try:
        return work(operator, inventory, selected) or exitcodes.OK
    except (Refused, StepFailed, CommandFailed, kubeadm.ParseError) as exc:
        err.print(f"{purpose}: {one_line(operator.redact(str(exc)))}", style="bold red", markup=False)
        return exitcodes.FAILED
    except Exception as exc:  # a node that cannot be reached or locked: said in one line, like bootstrap
        err.print(f"{purpose}: {one_line(operator.redact(describe_error(exc)))}", style="bold red", markup=False)
        return exitcodes.FAILED
    finally:
        operator.close()


def up(hosts: str | None) -> int:
    """Init once, then join each missing node, one at a time."""
    def work(op, inventory, selected):
        cluster = op.cluster()
        op.execute(planner.plan_up(cluster), cluster)
    return _operate("kubernetes.up", hosts, work)


def upgrade_target(inventory, to: str | None) -> Version:
    """The inventory's version: it is changed first (the source and pin follow it), then the cluster."""
    pinned = topology.version(inventory.with_role(ROLE)[0].settings(ROLE))
    if to and Version.parse(to) != pinned:
        raise Refused(f"the inventory pins {pinned}: set kubernetes.version to {Version.parse(to)} first, "
                      "then run kubernetes.upgrade (each node's package source follows that version)")
    return pinned


def upgrade(hosts: str | None, to: str | None = None) -> int:
    def work(op, inventory, selected):
        target = upgrade_target(inventory, to)
        cluster = op.cluster()
        op.execute(planner.plan_upgrade(cluster, target), cluster)
        op.say(f"every node runs {target}, the inventory's version")
    return _operate("kubernetes.upgrade", hosts, work)


def remove(hosts: str | None) -> int:
    def work(op, inventory, selected):
        if len(selected) != 1:
            raise Refused("give exactly one node to remove: -H NODE")
        cluster = op.cluster()
        op.execute(planner.plan_remove(cluster, selected[0].name), cluster)
    return _operate("kubernetes.remove", hosts, work)


def reset(hosts: str | None, yes: bool) -> int:
    def work(op, inventory, selected):
        if not yes:  # refused before any node is contacted
            planner.plan_reset(planner.Cluster(()), yes)
        cluster = op.cluster()
        op.execute(planner.plan_reset(cluster, yes), cluster)
    return _operate("kubernetes.reset", hosts, work)


def backup(hosts: str | None) -> int:
    def work(op, inventory, selected):
        op.snapshot(op.running_cluster().first.name)
    return _operate("kubernetes.backup", hosts, work)


def certs(hosts: str | None, json_path: str | None = None) -> int:
    """Each control-plane node's certificates; exit 2 when one needs the operator (renewal or a CA's rotation)."""
    def work(op, inventory, selected):
        op.running_cluster()
        now = datetime.datetime.now(datetime.timezone.utc)
        code, document = exitcodes.OK, {}
        for node in topology.control_planes(inventory):
            found = kubeadm.parse_expiration(op.run(node.name, kubeadm.certs_script(), "check certificate expiry"))
            margin = inventory.hosts[node.name].settings(ROLE)["cert_margin_days"]
            for line in certificate_lines(node.name, found, now, margin):
                op.say(line)
            code = exitcodes.DRIFT if kubeadm.certificate_warnings(found, now, margin) else code
            document[node.name] = json_safe(found)
        if json_path:
            write_report(json_path, json.loads(dumps(document)))
        return code
    return _operate("kubernetes.certs", hosts, work, json_path)


def certificate_lines(node: str, found, now, margin: int) -> list[str]:
    soon = {c.name for c in kubeadm.expiring(found, now, margin) + kubeadm.authorities_expiring(found, now, margin)}
    lines = []
    for c in found:
        if c.missing:
            why = "kubeadm writes it only where init ran" if c.name in kubeadm.ONLY_WHERE_INIT_RAN else "MISSING"
            lines.append(f"[{node}] {c.name:28} not on this node ({why})")
            continue
        mark = ("  ROTATE BY HAND" if c.authority else "  RENEW") if c.name in soon else ""
        lines.append(f"[{node}] {c.name:28} {c.expires:%Y-%m-%d %H:%M} UTC  {c.days_left(now):.0f} days{mark}")
    return lines


def renew(hosts: str | None) -> int:
    """One control-plane node at a time, each back to ready before the next."""
    def work(op, inventory, selected):
        cluster = op.running_cluster()
        op.execute(planner.plan_renew(cluster), cluster)
    return _operate("kubernetes.renew", hosts, work)


def kubeconfig(hosts: str | None, path: str) -> int:
    """admin.conf from the first control-plane node, pointing at the endpoint name, private to the operator."""
    def work(op, inventory, selected):
        first = op.running_cluster().first
        settings = inventory.hosts[first.name].settings(ROLE)
        text = op.run(first.name, kubeadm.admin_conf_script(), "read admin.conf")
        op.redact.add(text)  # its client key is the cluster's keys to the kingdom: never in any message
        target = Path(path).expanduser()
        target.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(kubeadm.point_at(text, topology.endpoint(settings)))
        op.say(f"kubeconfig for https://{topology.endpoint(settings)} written to {target} (mode 600)")
    return _operate("kubernetes.kubeconfig", hosts, work)
