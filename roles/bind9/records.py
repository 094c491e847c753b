"""Resource records: those the operator writes, and those the inventory implies.

Records are plain data so that a zone's content can be compared, counted and
rendered without any host. Owner names are relative to their zone ("@" is
the apex); targets are written as the operator wrote them (a name with a
trailing dot is absolute, as in any zone file).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

#: record types an operator may write
TYPES = ("A", "AAAA", "CAA", "CNAME", "MX", "NS", "PTR", "SRV", "TXT")
#: TXT character-strings are at most 255 octets each
TXT_CHUNK = 255


@dataclass(frozen=True, order=True)
class Record:
    name: str
    type: str
    value: str
    ttl: int | None = None

    @property
    def rdata(self) -> str:
        return txt_rdata(self.value) if self.type == "TXT" else self.value

    @property
    def identity(self) -> tuple[str, str, str]:
        """What the safety count compares: owner, type and data, normalised."""
        return normal_identity(self.name, self.type, self.rdata)


def normal_identity(name: str, rtype: str, rdata: str) -> tuple[str, str, str]:
    return (name.lower(), rtype.upper(), " ".join(rdata.split()))


def txt_rdata(value: str) -> str:
    """A TXT value as quoted character-strings (a DKIM key needs several).

    A value the operator already quoted is taken as written.
    """
    if value.startswith('"'):
        return value
    chunks = [value[i:i + TXT_CHUNK] for i in range(0, len(value), TXT_CHUNK)] or [""]
    return " ".join('"' + c.replace("\\", "\\\\").replace('"', '\\"') + '"' for c in chunks)


def address_record(name: str, address: str) -> Record:
    """A or AAAA, whichever the address is."""
    kind = "AAAA" if ipaddress.ip_address(address).version == 6 else "A"
    return Record(name, kind, str(ipaddress.ip_address(address)))


def operator_record(raw: dict) -> Record:
    return Record(str(raw["name"]), str(raw["type"]).upper(), str(raw["value"]), raw.get("ttl"))


def relative(name: str, zone: str) -> str | None:
    """`name` (absolute, without the final dot) relative to `zone`, or None outside it."""
    name, zone = name.rstrip(".").lower(), zone.rstrip(".").lower()
    if name == zone:
        return "@"
    if name.endswith("." + zone):
        return name[: -len(zone) - 1]
    return None


def join(label: str, zone: str) -> str:
    """An absolute name, with its final dot, for a label relative to `zone`."""
    return f"{zone}." if label == "@" else f"{label}.{zone}."


def merge(derived: list[Record], written: list[Record]) -> list[Record]:
    """The operator's records, plus derived ones the operator did not override.

    A written record replaces the derived records of the same owner and type;
    a written CNAME replaces every derived record of its owner, since a CNAME
    cannot share its name with other data.
    """
    taken = {(r.name.lower(), r.type) for r in written}
    aliased = {r.name.lower() for r in written if r.type == "CNAME"}
    kept = [r for r in derived if (r.name.lower(), r.type) not in taken and r.name.lower() not in aliased]
    return sorted(set(kept + written), key=sort_key)


def sort_key(record: Record):
    """Apex first, then by name; NS before other types at a name."""
    labels = tuple(_label_key(l) for l in reversed(record.name.lower().split("."))) if record.name != "@" else ()
    return (labels, record.type != "SOA", record.type != "NS", record.type, record.rdata)


def _label_key(label: str):
    """Numeric labels (reverse zones) in numeric order, before names."""
    return (0, int(label), "") if label.isdigit() else (1, 0, label)
