"""The bind9 role, checked with real DNS queries from the test runner.

Every name server of the inventory must answer for every record of its
zones, with its primary's serial, for its zones only, and hand a zone out
only to a client holding the transfer key.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.tsig
import dns.xfr
import dns.zone
import pytest
import yaml

from fleetfab.roles.bind9 import key_file, key_name
from fleetfab.roles.bind9.fleet import fleet_zones, zones_of
from fleetfab.roles.bind9.records import join
from fleetfab.roles.bind9.zonedata import zone_content
from tests.infra.conftest import ssh_config_path

ROLE = "bind9"
TIMEOUT = 3.0
#: how soon a secondary must serve a change after the bootstrap that made it
PROPAGATION_SECONDS = 5
FAB = Path(sys.executable).parent / "fab"


def query(address: str, name: str, rtype: str, recurse: bool = False) -> dns.message.Message:
    request = dns.message.make_query(name, rtype)
    if not recurse:
        request.flags &= ~dns.flags.RD
    response, _ = dns.query.udp_with_fallback(request, address, timeout=TIMEOUT)
    return response


def answer(address: str, name: str, rtype: str) -> set[str]:
    response = query(address, name, rtype)
    assert response.rcode() == dns.rcode.NOERROR, f"{name} {rtype} @{address}: {dns.rcode.to_text(response.rcode())}"
    assert response.flags & dns.flags.AA, f"{name} {rtype} @{address}: answer is not authoritative"
    return {rd.to_text() for rrset in response.answer if rrset.rdtype == dns.rdatatype.from_text(rtype) for rd in rrset}


def serial(address: str, zone: str) -> int:
    response = query(address, zone, "SOA")
    return response.answer[0][0].serial


def expected_answers(inventory, zone) -> dict[tuple[str, str], set[str]]:
    """(absolute name, type) -> the rdata texts the zone must answer with."""
    origin = dns.name.from_text(zone.name)
    wanted: dict[tuple[str, str], set[str]] = {}
    for record in zone_content(inventory, zone).records:
        rdata = dns.rdata.from_text(dns.rdataclass.IN, record.type, record.rdata, origin=origin, relativize=False)
        wanted.setdefault((join(record.name, zone.name), record.type), set()).add(rdata.to_text())
    return wanted


@pytest.fixture(scope="module")
def transfer_keys(inventory, connect):
    """Each primary's TSIG key, read from the primary itself (never printed)."""
    keys = {}
    for primary in {z.primary.name: z.primary for z in fleet_zones(inventory).values()}.values():
        text = connect(primary.name).file(key_file(primary)).content_string
        found = re.search(r'secret "([^"]+)"', text)
        assert found is not None, f"no TSIG secret in {key_file(primary)} on {primary.name}"
        keys[primary.name] = dns.tsig.Key(key_name(primary), found.group(1), dns.tsig.HMAC_SHA256)
    return keys


def test_named_runs_and_is_enabled(host):
    named = host.service("named")
    assert named.is_running and named.is_enabled


#: what a name server's configuration needs beside it to be checked elsewhere: its files, zones and root hints
CONFIGURATION_TREE = "etc/bind var/lib/bind var/cache/bind usr/share/dns"
#: unpacks the tree from stdin into a fresh folder and checks it there, zones included
CHECK_TREE = ('d=$(mktemp -d) && tar -C "$d" -xzf - && named-checkconf -z -t "$d" /etc/bind/named.conf; '
              'rc=$?; rm -rf "$d"; exit $rc')


def test_this_servers_whole_configuration_is_accepted_by_every_bind_of_the_fleet(spec, inventory, pytestconfig):
    """Each server's rendering, zones included, checked by the named-checkconf of every name server's
    release (Bind 9.18 and 9.20 in a mixed fleet): what a release upgrade of this host will meet.
    The tree holds keys: it goes from ssh to ssh through a pipe, never on a command line."""
    ssh = ["ssh", "-F", str(ssh_config_path(pytestconfig)), "-o", "BatchMode=yes"]
    tree = subprocess.run([*ssh, spec.name, f"tar -C / -czf - {CONFIGURATION_TREE} 2>/dev/null"],
                          capture_output=True, timeout=60)
    assert tree.stdout, tree.stderr
    refused = {}
    for other in (h for h in inventory.hosts.values() if ROLE in h.roles):
        checked = subprocess.run([*ssh, other.name, CHECK_TREE], input=tree.stdout, capture_output=True, timeout=60)
        if checked.returncode != 0:
            refused[other.name] = (checked.stdout + checked.stderr).decode(errors="replace")[-600:]
    assert refused == {}


def test_every_record_of_every_zone_is_answered(spec, inventory):
    for zone in zones_of(inventory, spec):
        for (name, rtype), rdatas in expected_answers(inventory, zone).items():
            assert answer(spec.address, name, rtype) == rdatas, f"{name} {rtype} @{spec.name}"


def test_every_server_serves_its_primarys_serial(spec, inventory):
    for zone in zones_of(inventory, spec):
        assert serial(spec.address, zone.name) == serial(zone.primary.address, zone.name), f"{zone.name} @{spec.name}"


def test_a_recursive_query_outside_the_zones_is_refused(spec):
    response = query(spec.address, "www.example.net", "A", recurse=True)
    assert response.rcode() == dns.rcode.REFUSED
    assert not response.answer


def test_the_server_validates_nothing_so_it_never_queries_the_root_for_its_trust_anchor(host):
    """An authoritative-only server with validation on keeps the root's key fresh by asking the
    root servers: traffic out of the lab. named's own reading of its configuration says it is off."""
    effective = host.check_output("named-checkconf -p /etc/bind/named.conf")
    assert re.search(r"^\s*dnssec-validation no;", effective, re.MULTILINE), effective[:400]


def test_a_zone_transfer_without_the_key_is_refused(spec, inventory):
    for zone in zones_of(inventory, spec):
        with pytest.raises(dns.xfr.TransferError) as refused:
            dns.zone.from_xfr(dns.query.xfr(spec.address, zone.name, timeout=TIMEOUT, lifetime=TIMEOUT))
        assert refused.value.rcode == dns.rcode.REFUSED


def test_a_zone_transfer_with_the_key_succeeds(spec, inventory, transfer_keys):
    for zone in zones_of(inventory, spec):
        key = transfer_keys[zone.primary.name]
        transferred = dns.zone.from_xfr(dns.query.xfr(spec.address, zone.name, keyring=key, keyname=key.name,
                                                      timeout=TIMEOUT, lifetime=TIMEOUT))
        assert transferred.get_soa().serial == serial(zone.primary.address, zone.name)


# -- a change made in the inventory reaches every secondary -----------------------


def bootstrap(inventory_file: Path, hosts: list[str]) -> subprocess.CompletedProcess:
    """`fab bootstrap`, retried while another run holds a host's lock."""
    env = {**os.environ, "FLEETFAB_INVENTORY": str(inventory_file)}
    for _ in range(20):
        done = subprocess.run([str(FAB), "-H", ",".join(hosts), "bootstrap"], env=env,
                              capture_output=True, text=True, timeout=600)
        if "holds the lock" not in done.stdout + done.stderr:
            return done
        time.sleep(15)
    return done


def with_probe_record(inventory, zone, label: str, token: str) -> str:
    """The inventory text, with one more TXT record in `zone` on its primary."""
    data = yaml.safe_load(Path(inventory.path).read_text())
    written = json.loads(json.dumps(zone.spec.get("records") or []))
    host_vars = data["hosts"][zone.primary.name].get("vars") or {}
    data["hosts"][zone.primary.name]["vars"] = host_vars
    zones = host_vars.setdefault("bind9", {}).setdefault("zones", {})
    zones.setdefault(zone.name, {})["records"] = written + [{"name": label, "type": "TXT", "value": token}]
    return yaml.safe_dump(data, sort_keys=False)


def wait_for_txt(address: str, name: str, token: str) -> float | None:
    """Seconds until `address` answers `name` TXT with `token`, or None."""
    started = time.monotonic()
    while time.monotonic() - started < PROPAGATION_SECONDS:
        if query(address, name, "TXT").answer and f'"{token}"' in answer(address, name, "TXT"):
            return time.monotonic() - started
        time.sleep(0.2)
    return None


def test_a_record_changed_in_the_inventory_reaches_the_secondaries_within_seconds(inventory):
    zone = next((z for z in fleet_zones(inventory).values() if z.secondaries and not z.network), None)
    if zone is None:
        pytest.skip("no forward zone with secondaries in this inventory")
    original = Path(inventory.path)
    changed = original.with_name(f".test-bind9-{uuid.uuid4().hex[:8]}.yml")
    label, token = "fleetfab-infra-probe", f"probe-{uuid.uuid4().hex}"
    servers = [h.name for h in zone.servers]
    changed.write_text(with_probe_record(inventory, zone, label, token))
    try:
        done = bootstrap(changed, servers)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        for secondary in zone.secondaries:
            assert wait_for_txt(secondary.address, join(label, zone.name), token) is not None, secondary.name
    finally:
        changed.unlink()
        restored = bootstrap(original, servers)
    assert restored.returncode == 0, restored.stdout[-2000:] + restored.stderr[-2000:]
    assert not query(zone.primary.address, join(label, zone.name), "TXT").answer
