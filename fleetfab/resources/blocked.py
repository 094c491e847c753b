"""A resource whose desired state cannot be known now, because an export is missing.

It stands where the real resources would be, so a plan says what waits and
why, and nothing is invented: the engine never applies it. With `keep`, a
copy of the value already on the host (a secondary's TSIG key file) is left
exactly as it is, and only a host with no copy at all is blocked.
"""

from __future__ import annotations

from dataclasses import dataclass

from fleetfab.resources.base import Change, Resource
from fleetfab.shell import q

BLOCKED = "blocked"


@dataclass(frozen=True)
class Blocked(Resource):
    what: str
    why: str
    keep: str | None = None

    @property
    def key(self) -> str:
        return self.what

    def probe(self) -> str:
        if self.keep is None:
            return "echo blocked"
        return f"if [ -e {q(self.keep)} ]; then echo kept; else echo absent; fi"

    def compare(self, output: str) -> Change | None:
        if output.strip() == "kept":
            return None
        return self.change(BLOCKED, f"waiting: {self.why}")

    def kept_note(self) -> str:
        return f"{self.what}: current copy kept as it is ({self.why})"

    def fix(self, change: Change) -> str:
        # Never reached: the engine does not apply a blocked resource.
        return f"echo {q(change.summary)} >&2; exit 3\n"
