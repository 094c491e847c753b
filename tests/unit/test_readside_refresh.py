"""After a procedure, the hosts it changed get their read-outs anew, and nothing else."""

from __future__ import annotations

from types import SimpleNamespace

from fleetfab.readside.installed import ReadOuts
from fleetfab.readside.refresh import ReadOutsOnly, changed_hosts
from fleetfab.report.model import APPLIED, PLANNED
from fleetfab.resources import File, Packages


class _Role:
    name = "base"
    versions = ("openssh-server",)

    def prepare(self, ctx):
        return [Packages(("sudo",))]

    def exports(self, ctx):
        return {"public_key": "the export"}

    def resources(self, ctx):
        return [File("/etc/hosts", "127.0.0.1 localhost\n"), ReadOuts(ctx), Packages(("curl",))]

    def handlers(self, ctx):
        return {"reload": "true"}


def test_a_refresh_states_only_the_read_outs():
    (resource,) = ReadOutsOnly(_Role()).resources(ctx=None)
    assert isinstance(resource, ReadOuts)


def test_a_refresh_prepares_nothing_and_runs_no_handler():
    role = ReadOutsOnly(_Role())
    assert list(role.prepare(None)) == [] and role.handlers(None) == {}


def test_a_refresh_reads_the_exports_and_versions_a_bootstrap_reads():
    role = ReadOutsOnly(_Role())
    assert role.exports(None) == {"public_key": "the export"} and role.versions == ("openssh-server",)


def test_only_hosts_with_an_applied_change_are_refreshed():
    report = lambda name, *statuses: SimpleNamespace(host=name, changes=[SimpleNamespace(status=s) for s in statuses])
    hosts = [SimpleNamespace(name=n) for n in ("mail1", "mail2", "ns1")]
    result = SimpleNamespace(reports=[report("mail1", APPLIED), report("mail2", PLANNED), report("ns1")], hosts=hosts)
    inventory = SimpleNamespace(hosts={h.name: h for h in hosts})
    assert [h.name for h in changed_hosts(inventory, result)] == ["mail1"]


def test_a_step_run_on_a_copy_of_a_host_refreshes_the_host_with_its_own_roles():
    """An upgrade's step runs on a copy carrying only its own role ('upgrade'), which no role set
    of the inventory names: the refresh converges the inventory's host, with its real roles."""
    real = SimpleNamespace(name="mail2", roles=("base", "mail"))
    step_copy = SimpleNamespace(name="mail2", roles=("upgrade",))
    result = SimpleNamespace(reports=[SimpleNamespace(host="mail2", changes=[SimpleNamespace(status=APPLIED)])],
                             hosts=[step_copy])
    assert changed_hosts(SimpleNamespace(hosts={"mail2": real}), result) == [real]
