"""fab's -H, the fleetfab way.

Fabric runs a task once per -H host, one host after another, and knows nothing
of groups. fleetfab tasks work on the whole selection at once, in parallel, so
this executor runs each task a single time and hands it the -H text, which the
task resolves against the inventory (host and group names).
"""

from __future__ import annotations

from fabric.executor import Executor

from fleetfab.cli.options import refuse_ignored


class FleetExecutor(Executor):
    def expand_calls(self, calls, apply_hosts=True):
        refuse_ignored(self.core[0].args)
        selection = self.core[0].args.hosts.value
        self.config.load_overrides({"fleetfab": {"hosts": selection}}, merge=True)
        return super().expand_calls(calls, apply_hosts=False)


def selected_hosts(context) -> str | None:
    """The -H text a task was given, or None (every host)."""
    section = context.config.get("fleetfab", {}) or {}
    return section.get("hosts") or None
