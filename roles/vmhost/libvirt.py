"""libvirt networks and storage pools: defined from our XML, active, started at boot."""

from __future__ import annotations

from dataclasses import dataclass

from fleetfab.resources import Change, Resource
from fleetfab.shell import q

#: where fleetfab keeps the XML it defines libvirt objects from
XML_DIR = "/etc/fleetfab/libvirt"


def validated(schema: str) -> str:
    """libvirt's own schema check of a candidate file, before anything is defined from it."""
    return f"virt-xml-validate %s {schema}"


@dataclass(frozen=True)
class Defined(Resource):
    """A network or pool (`kind` is `net` or `pool`) defined from `xml`, running and autostarted."""

    kind: str
    name: str
    xml: str

    @property
    def key(self) -> str:
        return f"libvirt {self.kind} {self.name}"

    def probe(self) -> str:
        return f"virsh -q {self.kind}-info {q(self.name)} 2>/dev/null || echo '@absent'"

    def compare(self, output: str) -> Change | None:
        if "@absent" in output:
            return self.change("define", f"define, start and autostart {self.name}")
        info = {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in output.splitlines())}
        running = info.get("Active") == "yes" or info.get("State") == "running"
        steps = ([] if running else ["start"]) + ([] if info.get("Autostart") == "yes" else ["autostart"])
        return self.change(" ".join(steps), " and ".join(steps)) if steps else None

    def fix(self, change: Change) -> str:
        kind, name = self.kind, q(self.name)
        lines = ["set -e"]
        if change.action == "define":
            lines.append(f"virsh -q {kind}-define {q(self.xml)}")
            if kind == "pool":
                lines.append(f"virsh -q pool-build {name} || true  # the folder may exist already")
        if change.action == "define" or "start" in change.action.split():
            lines.append(f"virsh -q {kind}-start {name}")
        if change.action == "define" or "autostart" in change.action.split():
            lines.append(f"virsh -q {kind}-autostart {name}")
        return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class BridgePresent(Resource):
    """A bridge guests join, made by the host's own network configuration, never by fleetfab.

    A bridge over the host's interface takes the host's own SSH path: made
    from here, one mistake leaves the host unreachable, with no way back from
    this side. So a missing bridge is refused, with the reason, and the
    operator makes it where the host's network is configured (with its console
    at hand).
    """

    name: str

    @property
    def key(self) -> str:
        return f"bridge {self.name}"

    def probe(self) -> str:
        return f"[ -d /sys/class/net/{q(self.name)}/bridge ] && echo bridge || echo '@absent'"

    def compare(self, output: str) -> Change | None:
        if output.strip() == "bridge":
            return None
        return self.change("refuse", f"no bridge {self.name} on the host: fleetfab does not make a bridge over the host's "
                                     "own interface (it would cut the host's SSH if it went wrong); make it in the host's "
                                     "network configuration")

    def fix(self, change: Change) -> str:
        return f"echo {q(change.summary)} >&2\nexit 1\n"
