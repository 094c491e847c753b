"""What a run found and did, per host: the data every output is made from."""

from __future__ import annotations

from dataclasses import dataclass, field

from fleetfab.resources.base import Change

PLANNED, APPLIED, FAILED = "planned", "applied", "failed"
#: a change a run meant to apply but did not reach, because an earlier one failed
SKIPPED = "skipped"


@dataclass
class ChangeRecord:
    role: str
    change: Change
    status: str = PLANNED
    error: str = ""

    def as_dict(self, redact) -> dict:
        data = {k: redact(v) for k, v in self.change.as_dict().items()}
        return {"role": self.role, **data, "status": self.status, "error": redact(self.error)}


@dataclass
class HostReport:
    host: str
    changes: list[ChangeRecord] = field(default_factory=list)
    unchanged: int = 0
    handlers: list[str] = field(default_factory=list)
    error: str = ""
    elapsed: float = 0.0
    round_trips: dict[str, int] = field(default_factory=dict)

    @property
    def failed(self) -> int:
        """Failed changes; a host that failed outside any change counts as one."""
        failed_changes = sum(1 for c in self.changes if c.status == FAILED)
        return failed_changes or (1 if self.error else 0)

    @property
    def has_failed_change(self) -> bool:
        return any(c.status == FAILED for c in self.changes)

    @property
    def changed(self) -> int:
        return sum(1 for c in self.changes if c.status in (APPLIED, PLANNED))

    @property
    def skipped(self) -> int:
        return sum(1 for c in self.changes if c.status == SKIPPED)

    @property
    def status(self) -> str:
        if self.error or self.has_failed_change:
            return "failed"
        return "changed" if self.changes else "ok"

    def as_dict(self, redact) -> dict:
        return {
            "status": self.status,
            "error": redact(self.error) or None,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "failed": self.failed,
            "skipped": self.skipped,
            "changes": [c.as_dict(redact) for c in self.changes],
            "handlers": self.handlers,
            "elapsed": round(self.elapsed, 3),
            "round_trips": self.round_trips,
        }


def totals(reports: list[HostReport]) -> dict[str, int]:
    return {
        "changed": sum(r.changed for r in reports),
        "unchanged": sum(r.unchanged for r in reports),
        "failed": sum(r.failed for r in reports),
        "skipped": sum(r.skipped for r in reports),
        "hosts": len(reports),
        "hosts_failed": sum(1 for r in reports if r.status == "failed"),
    }
