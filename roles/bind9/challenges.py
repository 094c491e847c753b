"""Zones for ACME DNS-01 challenges: the only place signed dynamic updates may write.

Dynamic updates and zone files fleetfab rewrites must never share a file:
named keeps a journal beside a dynamic zone, and a zone file replaced under
it breaks the zone. So each name a certificate covers gets a zone of its
own, `_acme-challenge.<name>`, on the primary of the zone holding the name,
delegated from that zone (an NS record) and created once, then left to
named: fleetfab never writes its file again. Its update policy lets the
ACME keys of the hosts whose certificates cover that name (one key per
certificates host, made on the primary) change the TXT records of that one
name and nothing else: a host cannot answer another host's challenges.
Every other zone refuses updates outright (`allow-update { none; }`).

An ACME client (certbot's rfc2136 plugin) looks up the SOA of
`_acme-challenge.<name>`, finds this zone, and updates it directly: no
CNAME to follow, and no provider API.
"""

from __future__ import annotations

from dataclasses import dataclass

from fleetfab.dns import DnsRecord, holding_zone
from fleetfab.roles.bind9.fleet import Zone, fleet_zones

DYNAMIC_DIR = "/var/lib/bind/fleetfab-dynamic"
PREFIX = "_acme-challenge."


@dataclass(frozen=True)
class ChallengeZone:
    name: str
    parent: Zone
    #: the certificates hosts whose names it proves: only their keys may write it
    clients: tuple[str, ...] = ()

    @property
    def primary(self):
        return self.parent.primary

    @property
    def file(self) -> str:
        return f"{DYNAMIC_DIR}/{self.name}.zone"


def challenge_name(certificate_name: str) -> str:
    """Where DNS-01 asks for a name's token (a wildcard shares its base name's)."""
    return PREFIX + certificate_name.lower().removeprefix("*.")


def challenge_zones(inventory, claims) -> list[ChallengeZone]:
    """A zone for each name in a fleet zone, in the order first met.

    `claims` are (host, name) pairs: `host` proves control of `name`. Two
    hosts certifying one name (or a name and its wildcard) share its zone.
    """
    zones = fleet_zones(inventory)
    found: dict[str, ChallengeZone] = {}
    for host, name in claims:
        zone_name = challenge_name(name)
        parent = holding_zone(zone_name, zones)
        if parent is None:
            continue
        known = found.get(zone_name) or ChallengeZone(zone_name, zones[parent])
        if host not in known.clients:
            known = ChallengeZone(zone_name, known.parent, (*known.clients, host))
        found[zone_name] = known
    return list(found.values())


def clients_of(challenges: list[ChallengeZone]) -> list[str]:
    """Every certificates host that writes into these zones, in the order first met."""
    return list(dict.fromkeys(c for zone in challenges for c in zone.clients))


def delegations(challenges: list[ChallengeZone], nameserver) -> list[DnsRecord]:
    """NS records in each parent zone, pointing at the primary that holds the challenge zone."""
    return [DnsRecord(c.name, "NS", nameserver(c.primary, c.parent)) for c in challenges]


def initial_zone(challenge: ChallengeZone, nameserver: str, contact: str) -> str:
    """The first and last content fleetfab writes: named owns the file from then on."""
    return (f"$TTL 60\n@ IN SOA {nameserver} {contact} 1 3600 600 86400 60\n"
            f"@ IN NS {nameserver}\n")
