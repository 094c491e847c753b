"""Fleet-wide rules of the bind9 settings, checked before any host is touched.

The schema checks each value's form; these rules need the whole merged
inventory: which hosts serve a zone, what its records say.
"""

from __future__ import annotations

import ipaddress

from fleetfab.inventory.yamlmarks import line_of
from fleetfab.problems import Problem
from fleetfab.role import settings_problem, written_in
from fleetfab.schema import field_label
from fleetfab.roles.bind9.fleet import ROLE, fleet_zones, is_primary, reverse_zone_name, servers_by_zone


def problems(inventory):
    yield from primaries(inventory)
    for host in inventory.with_role(ROLE):
        yield from reverse_networks(inventory, host)
    for zone in fleet_zones(inventory).values():
        yield from records(inventory, zone)
        if zone.network and zone.spec["domain"].lower() not in fleet_zones(inventory):
            yield settings_problem(inventory, zone.primary, ROLE, "reverse",
                                   f"reverse zone {zone.name}: domain {zone.spec['domain']!r} is not a zone of this fleet")


def primaries(inventory):
    """Each zone has exactly one primary: the one place its data comes from."""
    for name, hosts in servers_by_zone(inventory).items():
        chosen = [h.name for h in hosts if is_primary(h)]
        if len(chosen) != 1:
            found = "none of them is" if not chosen else f"{len(chosen)} are ({', '.join(chosen)})"
            yield settings_problem(inventory, hosts[0], ROLE, "zones",
                                   f"zone {name} is listed by {', '.join(h.name for h in hosts)} and {found} "
                                   "its primary: exactly one must be")


def reverse_networks(inventory, host):
    for network in host.settings(ROLE).get("reverse") or {}:
        try:
            reverse_zone_name(network)
        except ValueError as exc:
            yield settings_problem(inventory, host, ROLE, "reverse", str(exc))


def records(inventory, zone):
    """Addresses that are addresses, and no CNAME sharing its name."""
    written = zone.spec.get("records") or []
    # a record the schema refused (a missing field) is reported already; the others are still checked
    whole = [(i, r) for i, r in enumerate(written) if isinstance(r, dict) and {"name", "type", "value"} <= set(r)]
    names = {}
    for index, record in whole:
        names.setdefault(str(record["name"]).lower(), []).append(str(record["type"]).upper())
        message = address_problem(record)
        if message:
            yield record_problem(inventory, zone, written, index, message)
    for name, types in names.items():
        if "CNAME" in types and len(types) > 1:
            index = next(i for i, r in whole if str(r["name"]).lower() == name and str(r["type"]).upper() == "CNAME")
            yield record_problem(inventory, zone, written, index, f"{name}: a CNAME cannot share its name with other records")


def address_problem(record) -> str | None:
    kind = str(record["type"]).upper()
    if kind not in ("A", "AAAA"):
        return None
    try:
        address = ipaddress.ip_address(str(record["value"]))
    except ValueError:
        return f"{kind} record {record['name']}: {record['value']!r} is not an IP address"
    if address.version != (4 if kind == "A" else 6):
        return f"{kind} record {record['name']}: {record['value']} is an IPv{address.version} address"
    return None


def record_problem(inventory, zone, written, index, message) -> Problem:
    section = "reverse" if zone.network else "zones"
    key = zone.network or zone.name
    layer = written_in(inventory, zone.primary, ROLE, section, key, "records")
    return Problem(str(inventory.path), line_of(written, index, zone.primary.line),
                   f"{layer}.{ROLE}.{section}{field_label(key)}.records[{index}]", message)
