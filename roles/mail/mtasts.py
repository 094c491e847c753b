"""MTA-STS: senders learn that this fleet's mail servers always speak TLS with a valid certificate.

A policy (RFC 8461) is a small text served over HTTPS at
`https://mta-sts.<domain>/.well-known/mta-sts.txt`, announced by a TXT
record whose id changes with the policy. The mail role states both; the
edge host named in `mta_sts.edge` serves the text (it needs a certificate
for `mta-sts.<domain>`), and the records go into the fleet's zones. Only
domains the fleet's name servers serve get a policy: for the others, the
certificate could not be proven through them.
"""

from __future__ import annotations

import hashlib

from fleetfab.dns import DnsRecord, holding_zone
from fleetfab.roles.bind9.fleet import fleet_zones
from fleetfab.roles.mail.settings import ROLE

PATH = "/.well-known/mta-sts.txt"
DEFAULT_MODE, DEFAULT_MAX_AGE = "enforce", 604800


def enabled(host) -> bool:
    return bool(host.settings(ROLE).get("mta_sts"))


def policy(host, mx: str) -> str:
    s = host.settings(ROLE)["mta_sts"]
    return (f"version: STSv1\nmode: {s.get('mode', DEFAULT_MODE)}\nmx: {mx}\n"
            f"max_age: {s.get('max_age', DEFAULT_MAX_AGE)}\n")


def policy_id(text: str) -> str:
    """Changes whenever the policy does, so senders fetch it again."""
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def policy_domains(inventory, host) -> list[str]:
    zones = fleet_zones(inventory)
    return [d for d in sorted(host.settings(ROLE)["domains"]) if holding_zone(f"mta-sts.{d}", zones)]


def policy_host_name(domain: str) -> str:
    return f"mta-sts.{domain}"


def records(inventory, host, mx: str) -> list[DnsRecord]:
    if not enabled(host):
        return []
    edge = inventory.hosts.get(host.settings(ROLE)["mta_sts"]["edge"])
    if edge is None:
        return []
    text = policy(host, mx)
    found = []
    for domain in policy_domains(inventory, host):
        found.append(DnsRecord(f"_mta-sts.{domain}", "TXT", f"v=STSv1; id={policy_id(text)}"))
        found.append(DnsRecord(policy_host_name(domain), "AAAA" if ":" in edge.address else "A", edge.address))
    return found


def served_by(inventory, edge) -> dict[str, str]:
    """domain -> policy text, for every mail host whose policies `edge` serves."""
    from fleetfab.roles.mail import hostname

    served = {}
    for host in inventory.with_role(ROLE):
        if enabled(host) and host.settings(ROLE)["mta_sts"]["edge"] == edge.name:
            for domain in policy_domains(inventory, host):
                served[domain] = policy(host, hostname(host))
    return served
