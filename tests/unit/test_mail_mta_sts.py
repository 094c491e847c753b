"""MTA-STS: the policy, its id, its records, and who serves it."""

from __future__ import annotations


import pytest

from fleetfab.inventory import InputError, load_inventory
from fleetfab.roles.edge import Edge, policy_file
from fleetfab.roles.mail import mtasts
from fleetfab.role import RoleContext

LAB = "inventory/lab.yml"


@pytest.fixture(scope="module")
def lab():
    return load_inventory(LAB)


def test_the_policy_names_the_mail_server_the_mode_and_the_max_age(lab):
    text = mtasts.policy(lab.hosts["mail1"], "mail1.lab.test")
    assert text == "version: STSv1\nmode: enforce\nmx: mail1.lab.test\nmax_age: 604800\n"


def test_the_policy_id_changes_with_the_policy():
    assert mtasts.policy_id("mode: enforce\n") != mtasts.policy_id("mode: testing\n")
    assert mtasts.policy_id("x") == mtasts.policy_id("x") and len(mtasts.policy_id("x")) <= 32


def test_only_domains_the_fleet_serves_get_a_policy(lab):
    assert mtasts.policy_domains(lab, lab.hosts["mail1"]) == ["example.com"]


def test_the_records_announce_the_policy_and_point_its_name_at_the_edge(lab):
    records = {(r.name, r.type): r.value for r in mtasts.records(lab, lab.hosts["mail1"], "mail1.lab.test")}
    assert records[("mta-sts.example.com", "A")] == lab.hosts["edge1"].address
    assert records[("_mta-sts.example.com", "TXT")].startswith("v=STSv1; id=")


def test_the_edge_serves_each_policy_as_a_file_with_its_own_backend(lab):
    ctx = RoleContext(lab, lab.hosts["edge1"], "edge")
    resources = {r.key: r for r in Edge().resources(ctx)}
    assert resources[f"file {policy_file('example.com')}"].content.startswith("version: STSv1\n")
    config = resources["file /etc/haproxy/haproxy.cfg"].content
    assert "use_backend mta_sts_example_com if { req.hdr(host),field(1,:) -i mta-sts.example.com }" in config
    assert f"file {policy_file('example.com')} if {{ path /.well-known/mta-sts.txt }}" in config


def test_an_edge_without_a_certificate_for_the_policy_name_is_an_inventory_problem(tmp_path):
    text = open(LAB).read().replace("names: [mta-sts.example.com]", "names: [other.example.com]")
    path = tmp_path / "lab.yml"
    path.write_text(text.replace("../.lab/", str(tmp_path) + "/"))
    with pytest.raises(InputError) as caught:
        load_inventory(path)
    assert any("edge1 has no certificate for mta-sts.example.com" in p.message for p in caught.value.problems)
