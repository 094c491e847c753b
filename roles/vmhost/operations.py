"""Day two for guests, done by their VM host: destroy one (keeping its disk), restart one.

Each is a fleet run of the engine over the VM host (and, for a restart, the
guest after it), with only this procedure acting: the plan is shown, the
change journalled, the guest's return waited for like a new guest's.
"""

from __future__ import annotations

from dataclasses import dataclass

from fleetfab.cli import exitcodes
from fleetfab.cli.commands import consoles, load_or_explain, procedure
from fleetfab.resources import Change, Resource
from fleetfab.role import procedure_roles
from fleetfab.shell import q
from fleetfab.roles.vmhost import VmHost
from fleetfab.roles.vmhost.layout import Layout
from fleetfab.roles.vmhost.settings import ROLE

#: seconds a guest may take to power off cleanly before it is stopped hard
SHUTDOWN = 120


@dataclass(frozen=True)
class GuestGone(Resource):
    name: str
    disk: str
    seed: str
    delete_disk: bool

    @property
    def key(self) -> str:
        return f"guest {self.name}"

    def probe(self) -> str:
        return (f"virsh -q dominfo {q(self.name)} >/dev/null 2>&1 && echo defined || echo absent; "
                f"[ -e {q(self.disk)} ] && echo disk || echo no-disk")

    def compare(self, output: str) -> Change | None:
        defined, disk = (output.split() + ["", ""])[:2]
        remove_disk = self.delete_disk and disk == "disk"
        if defined != "defined" and not remove_disk:
            return None
        kept = f"its disk {self.disk} is deleted" if self.delete_disk else f"its disk {self.disk} is kept"
        return self.change("destroy", f"stop and undefine {self.name}; {kept}")

    def fix(self, change: Change) -> str:
        n = q(self.name)
        lines = ["set -e", f"virsh -q destroy {n} >/dev/null 2>&1 || true",
                 f"virsh -q undefine {n} >/dev/null 2>&1 || true", f"rm -f {q(self.seed)}"]
        if self.delete_disk:
            lines.append(f"rm -f {q(self.disk)}")
        return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class GuestRestarted(Resource):
    """Powered off and on again, so a new definition (CPUs, memory) takes effect."""

    name: str
    console: str

    @property
    def key(self) -> str:
        return f"guest {self.name}"

    def probe(self) -> str:
        return f"virsh -q domstate {q(self.name)} 2>/dev/null || echo absent"

    def compare(self, output: str) -> Change | None:
        if output.strip() == "absent":
            return None
        return self.change("stop start", f"restart {self.name} (it was {output.strip()})")

    def fix(self, change: Change) -> str:
        n = q(self.name)
        return "\n".join([
            "set -e",
            f"if [ \"$(virsh -q domstate {n})\" = running ]; then",
            f"  virsh -q shutdown {n} >/dev/null",
            f"  i=0; while [ \"$(virsh -q domstate {n})\" != 'shut off' ] && [ $i -lt {SHUTDOWN} ]; do sleep 1; i=$((i+1)); done",
            f"  [ \"$(virsh -q domstate {n})\" = 'shut off' ] || virsh -q destroy {n} >/dev/null",
            "fi",
            f": > {q(self.console)}",
            f"virsh -q start {n} >/dev/null",
        ]) + "\n"


class Procedure(VmHost):
    """The vmhost role for one procedure: on each VM host, exactly the given resources.

    Still the vmhost role otherwise: a restarted guest's keys are read from its console.
    """

    def __init__(self, by_host: dict[str, list[Resource]]):
        self.by_host = by_host

    def resources(self, ctx):
        return self.by_host.get(ctx.host.name, [])


def layout_of(inventory, hypervisor: str) -> Layout:
    return Layout.of(inventory.hosts[hypervisor].settings(ROLE))


def destroy(hosts: str | None, guest: str | None = None, delete_disk: bool = False) -> int:
    """Stop and undefine the -H guests (or `guest` on the -H VM host), keeping their disks unless asked."""
    def gone(name: str, layout: Layout) -> Resource:
        return GuestGone(name, layout.disk(name), layout.seed(name), delete_disk)
    return on_guests("vmhost.destroy", hosts, guest, gone, wait_for_guests=False)


def reboot(hosts: str | None) -> int:
    """Power the -H guests off and on, then wait until each answers again."""
    return on_guests("vmhost.reboot", hosts, None, lambda name, layout: GuestRestarted(name, layout.console(name)),
                     wait_for_guests=True)


def on_guests(purpose: str, hosts: str | None, guest: str | None, step, wait_for_guests: bool) -> int:
    """`step(guest, layout)` on each target guest's VM host; then, if asked, each guest waited for."""
    out, err = consoles()
    loaded = load_or_explain(err, hosts)
    if loaded is None:
        return exitcodes.FAILED
    inventory, selected = loaded
    targets = guest_targets(inventory, selected, guest, err)
    if targets is None:
        return exitcodes.FAILED
    by_host: dict[str, list[Resource]] = {}
    for name, hypervisor in targets:
        by_host.setdefault(hypervisor, []).append(step(name, layout_of(inventory, hypervisor)))
    then = [name for name, _ in targets] if wait_for_guests else []
    return run_procedure(inventory, purpose, by_host, then, out, err)


def guest_targets(inventory, selected, guest, err) -> list[tuple[str, str]] | None:
    """(guest, VM host) pairs: the selected guests, or one named guest on the selected VM host."""
    if guest:
        hosts = [h for h in selected if h.has_role(ROLE)]
        if len(hosts) != 1:
            err.print("--guest needs -H naming exactly one VM host", style="bold red")
            return None
        return [(guest, hosts[0].name)]
    not_guests = [h.name for h in selected if not h.vm]
    if not selected or not_guests:
        err.print(f"not guests (no vm: in the inventory): {', '.join(not_guests) or 'none selected'}; "
                  "nothing was contacted", style="bold red")
        return None
    return [(h.name, h.hypervisor) for h in selected]


def run_procedure(inventory, purpose: str, by_host: dict, then: list[str], out, err) -> int:
    """The VM hosts do the work; the guests in `then` are waited for afterwards (a restart)."""
    hosts = [inventory.hosts[name] for name in [*by_host, *then]]
    roles = procedure_roles(inventory, **{ROLE: Procedure(by_host)})
    return procedure(inventory, hosts, purpose, roles, out, err)[1]
