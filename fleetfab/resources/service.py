"""systemd units: enabled at boot and running."""

from __future__ import annotations

from dataclasses import dataclass

from fleetfab.facts import Shared
from fleetfab.resources.base import Change, Resource, lines
from fleetfab.resources.unitstates import PROPERTIES, UNITS
from fleetfab.resources.unitwords import explained
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
        return f"systemctl show {PROPERTIES} -- {q(self.name)} 2>/dev/null || true"

    def shared_probe(self) -> Shared:
        return Shared(UNITS, self.name)

    def _wanted(self, output: str) -> list[str]:
        state = dict(line.partition("=")[::2] for line in lines(output))
        enabled, active = state.get("UnitFileState", "").strip(), state.get("ActiveState", "").strip()
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
        unit = q(self.name)
        # A unit file or drop-in written earlier in this run is only seen after a
        # reload; NeedDaemonReload misses drop-ins in a newly made .service.d folder.
        script = "set -e\nsystemctl daemon-reload\n"
        script += "".join(f"systemctl {step} {unit}\n" for step in change.action.split())
        if self.running:
            script += started_check(self.name)
        # A failed start says why in the unit's own words, not systemctl's.
        return explained(script)


def started_check(name: str) -> str:
    """Fail when a start 'succeeded' without the unit running.

    systemd skips a unit whose conditions fail (timesyncd in a container) and
    still reports success; without this check every run would start it again.
    """
    unit = q(name)
    return (
        f"if ! systemctl is-active --quiet {unit}; then\n"
        f"  echo \"{name} is not running after start: $(systemctl show -p ActiveState -p SubState -p ConditionResult {unit} | tr '\\n' ' ')\" >&2\n"
        f"  systemctl status --no-pager -n 5 {unit} >&2 || true\n"
        f"  ff_explain start {unit}\n  exit 1\nfi\n"
    )
