"""Shared probes on real hosts: one `tar` and one `systemctl show` answer as each probe alone.

This is where the units' kind meets systemd: the unit tests can only feed it
canned `systemctl show` output.
"""

from __future__ import annotations

from fleetfab import release
from fleetfab.facts import batch_script, new_boundary, probe_of, split_output
from fleetfab.resources import File, Service
from fleetfab.role import RoleContext
from fleetfab.roles.base import Base

ROLE = "base"


def shareable(inventory, spec, host) -> list:
    """The base role's files and units on this host (rendered for its own release), and one of each that is not there."""
    own_release = release.parse(host.run("sh -c %s", release.probe()).stdout)
    ctx = RoleContext(inventory, spec, "base", release=own_release)
    resources = [r for r in Base().resources(ctx) if r.shared_probe()]
    assert {File, Service} <= {type(r) for r in resources}
    return resources + [File("/etc/fleetfab-no-such-file", ""), Service("fleetfab-no-such-unit")]


def test_shared_probes_answer_each_resource_as_its_own_probe_does(host, spec, inventory):
    resources = shareable(inventory, spec, host)
    own = [host.run("sh -c %s", r.probe()).stdout for r in resources]
    boundary = new_boundary()
    probes = [probe_of(r) for r in resources]
    batch = host.run("sh -c %s", batch_script(probes, boundary)).stdout
    assert split_output(batch, boundary, probes) == own
