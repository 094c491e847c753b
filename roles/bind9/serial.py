"""SOA serials of the form YYYYMMDDnn that only ever go up.

Secondaries transfer a zone only when its serial grows (RFC 1982 arithmetic),
so a serial that went down would leave them serving old data for good. The
date form is what operators read; growth is what DNS needs, and wins: after
the 99th change of a day the serial runs on into the next day's numbers.
"""

from __future__ import annotations

from datetime import date

#: the largest serial; a YYYYMMDDnn serial stays below it until 2042
SERIAL_MAX = 2**32 - 1


def day_base(today: date) -> int:
    """The first serial of a day: YYYYMMDD00."""
    return int(today.strftime("%Y%m%d")) * 100


def next_serial(current: int | None, today: date) -> int:
    """The serial of a zone whose content has just changed.

    `current` is the highest serial already in use (in the file or served by
    named), None for a new zone.
    """
    first = day_base(today)
    if current is None:
        return first
    following = current + 1
    if following > SERIAL_MAX:
        raise ValueError(f"serial {current} cannot grow any more; the zone needs a serial reset (RFC 1982)")
    return max(first, following)
