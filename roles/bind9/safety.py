"""The safety threshold: a plan must not silently gut a zone.

As in octoDNS, a change that deletes or rewrites more than a third of a
zone's records is far more often a mistake (a lost include, a wrong merge)
than an intent, so it is refused unless the operator forces it. Small zones
are left alone: in a zone of 3 records, one edit is already a third.
"""

from __future__ import annotations

from dataclasses import dataclass

#: zones with fewer records than this are never refused
MIN_RECORDS = 10


@dataclass(frozen=True)
class Verdict:
    zone: str
    removed: int
    total: int

    @property
    def message(self) -> str:
        return (f"zone {self.zone}: the plan deletes or rewrites {self.removed} of its {self.total} records "
                f"(more than a third); refused: check the inventory, or run again with --force")


def judge(zone: str, old: set, new: set) -> Verdict | None:
    """A verdict when replacing `old` records by `new` ones goes too far, else None.

    A rewritten record counts once: its old form is gone from the zone.
    """
    total = len(old)
    removed = len(old - new)
    if total >= MIN_RECORDS and 3 * removed > total:
        return Verdict(zone, removed, total)
    return None
