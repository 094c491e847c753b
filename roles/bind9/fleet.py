"""Which hosts serve which zones: the fleet-wide view every host's state needs.

A host serves the zones its merged settings list. The zone's one primary
holds the data, so a zone's content is always read from the primary's
settings; secondaries only need its name and where to transfer it from.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

ROLE = "bind9"


@dataclass(frozen=True)
class Zone:
    name: str
    primary: object  # fleetfab Host
    secondaries: tuple = ()
    spec: dict = field(default_factory=dict, compare=False)
    #: the network of a reverse zone, None for a forward zone
    network: str | None = None

    @property
    def servers(self) -> tuple:
        return (self.primary, *self.secondaries)


def reverse_zone_name(network: str) -> str:
    """The in-addr.arpa / ip6.arpa zone of a network on a label boundary."""
    net = ipaddress.ip_network(network)
    step = 8 if net.version == 4 else 4
    if net.prefixlen % step:
        raise ValueError(f"{network}: a reverse zone needs a prefix length that is a multiple of {step}")
    labels = net.network_address.reverse_pointer.split(".")
    host_labels = (net.max_prefixlen - net.prefixlen) // step
    return ".".join(labels[host_labels:])


def served(host) -> dict[str, tuple[dict, str | None]]:
    """Zones this host's settings list: name -> (settings, network or None)."""
    s = host.settings(ROLE)
    zones = {name.lower(): (spec or {}, None) for name, spec in (s.get("zones") or {}).items()}
    for network, spec in (s.get("reverse") or {}).items():
        try:
            zones[reverse_zone_name(network)] = (spec or {}, network)
        except ValueError:
            continue  # reported by check()
    return zones


def servers_by_zone(inventory) -> dict[str, list]:
    """Every zone of the fleet and the bind9 hosts that list it, in inventory order."""
    found: dict[str, list] = {}
    for host in inventory.with_role(ROLE):
        for name in served(host):
            found.setdefault(name, []).append(host)
    return found


def is_primary(host) -> bool:
    return host.settings(ROLE).get("server") == "primary"


def fleet_zones(inventory) -> dict[str, Zone]:
    """Zones with exactly one primary (check() reports the others)."""
    zones = {}
    for name, hosts in servers_by_zone(inventory).items():
        primaries = [h for h in hosts if is_primary(h)]
        if len(primaries) != 1:
            continue
        primary = primaries[0]
        spec, network = served(primary)[name]
        secondaries = tuple(h for h in hosts if not is_primary(h))
        zones[name] = Zone(name, primary, secondaries, spec, network)
    return zones


def zones_of(inventory, host) -> list[Zone]:
    """The zones `host` serves, as primary or secondary."""
    return [z for z in fleet_zones(inventory).values() if host.name in {s.name for s in z.servers}]
