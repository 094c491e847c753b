"""Zone files as text: rendering, the SOA serial in them, and their records.

The serial is the one part of a zone file that is not a function of the
inventory, so the content is compared with the serial blanked out, and the
serial is chosen only when the rest differs.
"""

from __future__ import annotations

import re

from fleetfab.templates import render
from fleetfab.roles.bind9.records import normal_identity
from fleetfab.roles.bind9.zonedata import ZoneContent

#: the serial line of the SOA record as the template writes it
SERIAL_LINE = re.compile(r"^(\s*)(\d+)(\s*;\s*serial\b)", re.MULTILINE)
BLANK = 0


def render_zone(zone: ZoneContent, serial: int) -> str:
    return render("bind9/zone.j2", zone=zone, serial=serial)


def serial_of(text: str) -> int | None:
    """The serial written in a zone file, or None if it cannot be found."""
    match = SERIAL_LINE.search(text)
    return int(match.group(2)) if match else None


def with_serial(text: str, serial: int) -> str:
    return SERIAL_LINE.sub(lambda m: f"{m.group(1)}{serial}{m.group(3)}", text, count=1)


def same_content(text: str, zone: ZoneContent) -> bool:
    """True when `text` differs from the desired zone at most in its serial."""
    return with_serial(text, BLANK) == render_zone(zone, BLANK)


def records_in(text: str) -> set[tuple[str, str, str]]:
    """The records of a zone file in the layout the template writes (SOA left out).

    Enough to count what a plan deletes or rewrites; named-checkzone, not
    this, decides whether a file is valid.
    """
    found = set()
    owner = "@"
    in_parens = False
    for raw in text.splitlines():
        line = strip_comment(raw)
        if in_parens:
            in_parens = ")" not in line
            continue
        if not line.strip() or line.startswith("$"):
            continue
        tokens = line.split()
        if not line[0].isspace():
            owner = tokens.pop(0)
        record = _type_and_data(tokens)
        if record is None:
            continue
        rtype, rdata = record
        if rtype == "SOA":
            in_parens = "(" in line and ")" not in line
            continue
        found.add(normal_identity(owner, rtype, rdata))
    return found


def _type_and_data(tokens: list[str]):
    """Skip the optional TTL and class; what follows is the type and the data."""
    while tokens and (tokens[0].isdigit() or tokens[0].upper() in ("IN", "CH", "HS")):
        tokens = tokens[1:]
    if not tokens:
        return None
    return tokens[0].upper(), " ".join(tokens[1:])


def strip_comment(line: str) -> str:
    """The line without its comment; a ';' inside a quoted string (DKIM, SPF) stays."""
    quoted = escaped = False
    for index, char in enumerate(line):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == ";" and not quoted:
            return line[:index].rstrip()
    return line.rstrip()
