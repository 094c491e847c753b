"""A guest's domain on its VM host: defined, sized, started and autostarted as declared.

CPU, memory, MAC and network go to the persistent definition; a running
guest keeps what it booted with until it is restarted, which the probe sees
(live values beside the persistent ones) and reports as pending. A disk may
grow, live when the guest runs; it never shrinks.
"""

from __future__ import annotations

from dataclasses import dataclass

from fleetfab.resources import Change, Resource
from fleetfab.shell import q
from fleetfab.roles.vmhost.guests import GuestSpec


@dataclass(frozen=True)
class Found:
    """What the probe read: live values (a running guest) and the persistent definition."""

    state: str = ""
    autostart: bool = False
    live_cpus: int = 0
    live_memory: int = 0  # KiB
    cpus: int = 0
    memory: int = 0  # KiB
    mac: str = ""
    network: str = ""
    disk: int = 0  # bytes

    @property
    def running(self) -> bool:
        return self.state == "running"


def parse(output: str) -> Found | None:
    if "@absent" in output:
        return None
    fields: dict[str, str] = {}
    for line in output.splitlines():
        tag, _, value = line.partition(" ")
        if tag.startswith("@") and tag[1:] not in fields:
            fields[tag[1:]] = value.strip()
    number = lambda key: int((fields.get(key) or "0").split()[0] or 0)
    return Found(
        state=fields.get("state", ""),
        autostart=fields.get("autostart") == "enable",
        live_cpus=number("live_cpus"),
        live_memory=number("live_memory"),
        cpus=number("vcpu"),
        memory=number("memory"),
        mac=fields.get("mac", ""),
        network=fields.get("network") or fields.get("bridge", ""),
        disk=number("disk"),
    )


@dataclass(frozen=True)
class Domain(Resource):
    spec: GuestSpec
    xml: str
    disk: str
    base: str
    #: the libvirt network (or bridge) the guest's interface is on
    attachment: str
    #: its serial console's log: emptied before it starts, so the host keys
    #: read there afterwards are this boot's (fleetfab/keysource.py)
    console: str

    @property
    def key(self) -> str:
        return f"guest {self.spec.name}"

    def probe(self) -> str:
        n, d = q(self.spec.name), q(self.disk)
        return "\n".join([
            f"if info=$(virsh -q dominfo {n} 2>/dev/null); then",
            f"  echo \"@state $(virsh -q domstate {n})\"",
            "  echo \"@autostart $(echo \"$info\" | sed -n 's/^Autostart: *//p')\"",
            "  echo \"@live_cpus $(echo \"$info\" | sed -n 's/^CPU(s): *//p')\"",
            "  echo \"@live_memory $(echo \"$info\" | sed -n 's/^Max memory: *//p')\"",
            # attributes come single-quoted from libvirt: made double, sed needs no quote juggling
            f"  virsh dumpxml --inactive {n} | tr \"'\" '\"' | sed -n"
            " -e 's/.*<vcpu[^>]*>\\([0-9]*\\)<.*/@vcpu \\1/p'"
            " -e 's/.*<memory unit=\"KiB\">\\([0-9]*\\)<.*/@memory \\1/p'"
            " -e 's/.*<mac address=\"\\([0-9a-f:]*\\)\".*/@mac \\1/p'"
            " -e 's/.*<source network=\"\\([^\"]*\\)\".*/@network \\1/p'"
            " -e 's/.*<source bridge=\"\\([^\"]*\\)\".*/@bridge \\1/p'",
            f"  echo \"@disk $(qemu-img info -U --output=json {d} 2>/dev/null | sed -n 's/.*\"virtual-size\": *\\([0-9]*\\).*/\\1/p')\"",
            "else echo '@absent'; fi",
        ])

    def wanted_memory(self) -> int:
        return self.spec.memory * 1024

    def compare(self, output: str) -> Change | None:
        found = parse(output)
        if found is None:
            return self.change("create", f"create {self.spec.disk} disk on {self.base.rsplit('/', 1)[-1]}, define, start",
                               data=(False,))
        if found.disk > self.spec.disk_bytes:
            return self.change("refuse", f"disk is {found.disk >> 20} MiB, the inventory says {self.spec.disk}: "
                                         "shrinking is refused (it would lose data)")
        steps, said = self.steps(found)
        return self.change(" ".join(steps), "; ".join(said), data=(found.running,)) if steps else None

    def steps(self, found: Found) -> tuple[list[str], list[str]]:
        steps, said = [], []
        definition = []
        if found.cpus != self.spec.cpus:
            definition.append(f"cpus {found.cpus} -> {self.spec.cpus}")
        if found.memory != self.wanted_memory():
            definition.append(f"memory {found.memory // 1024} -> {self.spec.memory} MiB")
        if found.mac != self.spec.mac:
            definition.append(f"MAC {found.mac or '-'} -> {self.spec.mac}")
        if found.network != self.attachment:
            definition.append(f"network {found.network or '-'} -> {self.attachment}")
        if definition:
            steps.append("redefine")
            said.append(", ".join(definition) + (" (at the next restart)" if found.running else ""))
        if found.disk < self.spec.disk_bytes:
            steps.append("grow")
            said.append(f"disk {found.disk >> 20} MiB -> {self.spec.disk}")
        if not found.running:
            steps.append("start")
            said.append(f"start (it is {found.state or 'not running'})")
        if not found.autostart:
            steps.append("autostart")
            said.append("start at boot")
        return steps, said

    def note(self, output: str) -> str | None:
        """A running guest still on its old size after the definition changed."""
        found = parse(output)
        if found is None or not found.running:
            return None
        if (found.live_cpus, found.live_memory) == (self.spec.cpus, self.wanted_memory()):
            return None
        return (f"guest {self.spec.name} runs with {found.live_cpus} CPU(s) and {found.live_memory // 1024} MiB; "
                f"{self.spec.cpus} and {self.spec.memory} MiB are pending a restart (fab -H {self.spec.name} vmhost.reboot)")

    def fix(self, change: Change) -> str:
        n, d = q(self.spec.name), q(self.disk)
        steps = change.action.split()
        if "refuse" in steps:
            return f"echo {q(change.summary)} >&2\nexit 1\n"
        lines = ["set -e"]
        if "create" in steps:
            lines.append(f"[ -e {d} ] || qemu-img create -q -f qcow2 -F qcow2 -b {q(self.base)} {d} {self.spec.disk}")
        if "create" in steps:
            lines.append(f"virsh -q define {q(self.xml)} >/dev/null")
        if "redefine" in steps:
            # the same domain, so the definition keeps its UUID (libvirt refuses a second one by that name)
            lines += [f"uuid=$(virsh -q domuuid {n})", "new=$(mktemp)",
                      f"sed \"s|<name>{self.spec.name}</name>|&<uuid>$uuid</uuid>|\" {q(self.xml)} > \"$new\"",
                      "virsh -q define \"$new\" >/dev/null", "rm -f \"$new\""]
        if "grow" in steps:
            running = change.data and change.data[0]
            lines.append(f"virsh -q blockresize {n} vda {self.spec.disk_bytes}B" if running
                         else f"qemu-img resize -q {d} {self.spec.disk}")
        if "create" in steps or "autostart" in steps:
            lines.append(f"virsh -q autostart {n} >/dev/null")
        if "create" in steps or "start" in steps:
            lines += [f": > {q(self.console)}", f"virsh -q start {n} >/dev/null"]
        return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class UnknownGuests(Resource):
    """Guests running on the host that the inventory does not declare: reported, never destroyed."""

    declared: tuple[str, ...]

    @property
    def key(self) -> str:
        return "guests not in the inventory"

    def probe(self) -> str:
        return "virsh -q list --all --name 2>/dev/null || true"

    def compare(self, output: str) -> Change | None:
        extra = sorted({line.strip() for line in output.splitlines() if line.strip()} - set(self.declared))
        if not extra:
            return None
        from fleetfab.resources.base import REPORT

        return self.change(REPORT, f"{', '.join(extra)}: not in the inventory; left alone "
                                   "(fab -H <vmhost> vmhost.destroy --guest NAME removes one)")

    def fix(self, change: Change) -> str:
        return "true\n"
