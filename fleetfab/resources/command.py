"""Commands that run only while a guard says the work is not yet done."""

from __future__ import annotations

from dataclasses import dataclass

from fleetfab.resources.base import Change, Resource
from fleetfab.shell import q


@dataclass(frozen=True)
class Command(Resource):
    """`run` runs when `unless` fails (or `creates` does not exist).

    A command with no guard could not converge, so one is required.
    """

    name: str
    run: str
    unless: str | None = None
    creates: str | None = None

    def __post_init__(self):
        super().__post_init__()
        if not (self.unless or self.creates):
            raise ValueError(f"command {self.name!r} needs a guard: unless= or creates=")

    @property
    def key(self) -> str:
        return f"command {self.name}"

    @property
    def guard(self) -> str:
        parts = []
        if self.creates:
            parts.append(f"[ -e {q(self.creates)} ]")
        if self.unless:
            parts.append(f"( {self.unless} )")
        return " && ".join(parts)

    def probe(self) -> str:
        return f"if {self.guard} >/dev/null 2>&1; then echo done; else echo todo; fi"

    def compare(self, output: str) -> Change | None:
        return None if output.strip() == "done" else self.change("run", f"run: {self.name}")

    def fix(self, change: Change) -> str:
        return f"set -e\n{self.run}\n"
