"""DNS records that roles contribute to the fleet's own zones.

A role that needs names published (mail's MX, SPF, DMARC and DKIM keys; a
certificate's ACME challenge delegation) states them as data, by absolute
name, from the inventory and the exports it can read. The bind9 role serves
each record in the most specific fleet zone that holds its name; a name no
fleet zone holds is the operator's to publish elsewhere, and the role that
contributed it can print it (`fab mail.records`).

Contributed records override records the inventory merely implies (an A
record per host, a PTR per address) and yield to those the operator wrote.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable


@dataclass(frozen=True, order=True)
class DnsRecord:
    #: absolute owner name, without the final dot: "_dmarc.example.com"
    name: str
    type: str
    value: str
    ttl: int | None = None

    def zone_line(self) -> str:
        """The record as a line of a zone file, for operators publishing it by hand."""
        from fleetfab.roles.bind9.records import txt_rdata

        data = txt_rdata(self.value) if self.type == "TXT" else self.value
        ttl = f" {self.ttl}" if self.ttl is not None else ""
        return f"{self.name}.{ttl} IN {self.type} {data}"


def contributed_records(ctx, roles: dict) -> list[DnsRecord]:
    """Every record any role contributes, given some host's RoleContext (exports read through it)."""
    return sorted({record for role in roles.values() for record in role.dns_records(ctx)})


def holding_zone(name: str, zones: Iterable[str]) -> str | None:
    """The most specific of `zones` that holds `name`, or None."""
    name = name.rstrip(".").lower()
    found = [z for z in zones if name == z or name.endswith("." + z)]
    return max(found, key=len) if found else None
