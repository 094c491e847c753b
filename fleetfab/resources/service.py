"""systemd units: enabled at boot and running."""

from __future__ import annotations

from dataclasses import dataclass

from fleetfab.resources.base import Change, Resource, lines
from fleetfab.shell import q

#: is-enabled answers that need no `systemctl enable`
ENABLED_STATES = {"enabled", "enabled-runtime", "static", "alias", "indirect", "generated"}


@dataclass(frozen=True)
class Service(Resource):
    name: str
    enabled: bool = True
    running: bool = True

    @property
    def key(self) -> str:
        return f"service {self.name}"

    def probe(self) -> str:
        unit = q(self.name)
        return f"systemctl is-enabled {unit} 2>/dev/null || true; systemctl is-active {unit} 2>/dev/null || true"

    def _wanted(self, output: str) -> list[str]:
        found = lines(output) + ["", ""]
        enabled, active = found[0].strip(), found[1].strip()
        steps = []
        if self.enabled != (enabled in ENABLED_STATES):
            steps.append("enable" if self.enabled else "disable")
        if self.running != (active == "active"):
            steps.append("start" if self.running else "stop")
        return steps

    def compare(self, output: str) -> Change | None:
        steps = self._wanted(output)
        return self.change(" ".join(steps), " and ".join(steps)) if steps else None

    def fix(self, change: Change) -> str:
        return "set -e\n" + "".join(f"systemctl {step} {q(self.name)}\n" for step in change.action.split())
