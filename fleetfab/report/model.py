"""What a run found and did, per host: the data every output is made from."""

from __future__ import annotations

from dataclasses import dataclass, field

from fleetfab.resources.base import Change

PLANNED, APPLIED, FAILED = "planned", "applied", "failed"
#: a change a run meant to apply but did not reach, because an earlier one failed
SKIPPED = "skipped"
#: a host's status, for people, when changes were found but not applied
WOULD_CHANGE = "would change"


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
    #: values of other hosts taken from the controller's memory (exports.Recalled)
    recalled: list = field(default_factory=list)
    #: resources that could not be decided: they need a value no host could give
    blocked: list[str] = field(default_factory=list)
    #: what was left as it is, or not compared, and why
    notes: list[str] = field(default_factory=list)

    @property
    def failed(self) -> int:
        """Failed changes and blocked resources; a host that failed outside any change counts as one."""
        failed_changes = sum(1 for c in self.changes if c.status == FAILED) + len(self.blocked)
        return failed_changes or (1 if self.error else 0)

    @property
    def reason(self) -> str:
        """Why the host failed, in one line: its error, or its first failed change's."""
        failed = [c.error for c in self.changes if c.status == FAILED and c.error]
        return self.error or (failed[0] if failed else "failed")

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
        if self.error or self.has_failed_change or self.blocked:
            return "failed"
        return "changed" if self.changes else "ok"

    @property
    def label(self) -> str:
        """The status in words for people: 'would change' where changes were found and none applied
        (a dry run, a drift), so a plan never reads as done. The JSON keeps `status`."""
        if self.status == "changed" and not any(c.status == APPLIED for c in self.changes):
            return WOULD_CHANGE
        return self.status

    @property
    def counts(self) -> str:
        """'changed 2, unchanged 14, failed 0', or 'would change 2, ...' for a plan."""
        changed = WOULD_CHANGE if self.label == WOULD_CHANGE else "changed"
        return f"{changed} {self.changed}, unchanged {self.unchanged}, failed {self.failed}"

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
            "from_memory": [r.as_dict() for r in self.recalled],
            "blocked": [redact(b) for b in self.blocked],
            "notes": [redact(n) for n in self.notes],
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
        "from_memory": sum(len(r.recalled) for r in reports),
    }
