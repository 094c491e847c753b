"""A zone's content: the SOA fields and every record, derived and written.

Pure functions of the inventory, so the content of any zone can be rendered
and checked in a unit test exactly as the primary will serve it.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import NamedTuple

from fleetfab.dns import holding_zone
from fleetfab.roles.base import hostname
from fleetfab.roles.bind9.fleet import ROLE, Zone, fleet_zones
from fleetfab.roles.bind9.mesh import mesh_address
from fleetfab.roles.bind9.records import Record, address_record, join, merge, operator_record, relative


class Soa(NamedTuple):
    refresh: int
    retry: int
    expire: int
    negative: int


@dataclass(frozen=True)
class ZoneContent:
    name: str
    ttl: int
    mname: str
    rname: str
    soa: Soa
    records: tuple[Record, ...]


def forward_domain(zone: Zone) -> str:
    """The forward domain a zone's server names live in (a reverse zone's `domain`)."""
    return zone.spec["domain"].lower() if zone.network else zone.name


def nameserver(host, domain: str) -> str:
    """The absolute name `host` has in NS records."""
    given = host.settings(ROLE).get("nameserver")
    if given:
        return given if given.endswith(".") else given + "."
    return join(hostname(host), domain)


def ns_records(zone: Zone) -> list[Record]:
    domain = forward_domain(zone)
    visible = [h for h in zone.servers if not h.settings(ROLE).get("hidden")]
    return [Record("@", "NS", nameserver(h, domain)) for h in visible]


def glue(zone: Zone) -> list[Record]:
    """Addresses for NS targets inside the zone itself, which need them to resolve."""
    found = []
    for host in zone.servers:
        label = relative(nameserver(host, forward_domain(zone)), zone.name)
        if label is not None and not host.settings(ROLE).get("hidden"):
            found.append(address_record(label, host.address))
    return found


def host_records(inventory) -> list[Record]:
    return [address_record(hostname(h), h.address) for h in inventory.hosts.values()]


def mesh_records(inventory, where: str) -> list[Record]:
    records = []
    for host in inventory.hosts.values():
        address = mesh_address(host)
        if address:
            name = hostname(host) if where == "@" else f"{hostname(host)}.{where}"
            records.append(address_record(name, address))
    return records


def ptr_records(inventory, zone: Zone) -> list[Record]:
    """PTR for every host address (and mesh address) inside the reverse zone's network."""
    network = ipaddress.ip_network(zone.network)
    domain = forward_domain(zone)
    mesh_at = mesh_label(inventory, domain)
    records = []
    for host in inventory.hosts.values():
        named = [(host.address, join(hostname(host), domain))]
        mesh = mesh_address(host)
        if mesh and mesh_at is not None:
            label = hostname(host) if mesh_at == "@" else f"{hostname(host)}.{mesh_at}"
            named.append((mesh, join(label, domain)))
        for address, target in named:
            ip = ipaddress.ip_address(address)
            if ip.version == network.version and ip in network:
                records.append(Record(relative(ip.reverse_pointer, zone.name), "PTR", target))
    return records


def mesh_label(inventory, domain: str) -> str | None:
    zone = fleet_zones(inventory).get(domain)
    return None if zone is None else zone.spec.get("mesh")


def derived_records(inventory, zone: Zone) -> list[Record]:
    records = ns_records(zone) + glue(zone)
    if zone.network:
        return records + ptr_records(inventory, zone)
    if zone.spec.get("hosts"):
        records += host_records(inventory)
    if zone.spec.get("mesh"):
        records += mesh_records(inventory, zone.spec["mesh"])
    return records


def records_in_zone(contributed, zone: Zone, zone_names) -> list[Record]:
    """The contributed records whose most specific fleet zone is this one, relative to it."""
    return [Record(relative(r.name, zone.name), r.type, r.value, r.ttl)
            for r in contributed if holding_zone(r.name, zone_names) == zone.name]


def zone_content(inventory, zone: Zone, contributed=()) -> ZoneContent:
    """`contributed`: DnsRecords other roles contribute (fleetfab.dns), any zone's."""
    s = zone.primary.settings(ROLE)
    written = [operator_record(r) for r in zone.spec.get("records") or []]
    mine = records_in_zone(contributed, zone, fleet_zones(inventory))
    domain = forward_domain(zone)
    return ZoneContent(
        name=zone.name,
        ttl=s["ttl"] if zone.spec.get("ttl") is None else zone.spec["ttl"],
        mname=nameserver(zone.primary, domain),
        rname=join(s["contact"], domain),
        soa=Soa(**s["soa"]),
        records=tuple(merge(merge(derived_records(inventory, zone), mine), written)),
    )
