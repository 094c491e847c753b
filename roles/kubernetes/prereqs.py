"""What kubelet needs of the kernel and the host before anything of Kubernetes runs.

Swap off (now and at boot) unless the inventory names a swap behaviour,
overlay and br_netfilter loaded (now and at boot), and the bridge and
forwarding sysctls. A host that cannot load modules itself (a container,
whose kernel is its host's) gets a note instead of a failed change.
"""

from __future__ import annotations

from dataclasses import dataclass

from fleetfab.resources import File, Sysctl
from fleetfab.resources.base import Change, Resource, lines
from fleetfab.resources.file import backup_script, replace_script
from fleetfab.shell import q

MODULES = ("overlay", "br_netfilter")
MODULES_FILE = "/etc/modules-load.d/kubernetes.conf"
SYSCTLS = {"net.bridge.bridge-nf-call-iptables": 1, "net.bridge.bridge-nf-call-ip6tables": 1, "net.ipv4.ip_forward": 1}
#: a module built into the kernel has no /sys/module entry when it takes no
#: parameters; what it creates shows it is there all the same
EVIDENCE = {"br_netfilter": "/proc/sys/net/bridge"}
FSTAB = "/etc/fstab"
#: an fstab line that mounts swap: its third field
SWAP_LINE = r"^[[:space:]]*[^#[:space:]][^[:space:]]*[[:space:]]+[^[:space:]]+[[:space:]]+swap[[:space:]]"


@dataclass(frozen=True)
class KernelModules(Resource):
    """Modules loaded now; a host that cannot load them is told, not failed."""

    names: tuple[str, ...] = MODULES

    @property
    def key(self) -> str:
        return f"kernel modules {' '.join(self.names)}"

    def probe(self) -> str:
        checks = "".join(
            f"if [ -d /sys/module/{q(m)} ]{' || [ -e ' + q(EVIDENCE[m]) + ' ]' if m in EVIDENCE else ''}; "
            f"then echo {q(m)} loaded; else echo {q(m)} absent; fi; " for m in self.names)
        return (f"{checks}if command -v modprobe >/dev/null 2>&1; then echo modprobe yes; else echo modprobe no; fi; "
                # detect-virt prints "none" and fails outside a container; a host without it is taken as none
                "virt=$(systemd-detect-virt -c 2>/dev/null); echo container ${virt:-none}")

    def _state(self, output: str) -> tuple[list[str], bool, str]:
        fields = dict(line.split(" ", 1) for line in lines(output) if " " in line)
        missing = [m for m in self.names if fields.get(m) != "loaded"]
        return missing, fields.get("modprobe") == "yes", fields.get("container", "none")

    def _can_load(self, modprobe: bool, container: str) -> bool:
        return modprobe and container == "none"

    def compare(self, output: str) -> Change | None:
        missing, modprobe, container = self._state(output)
        if not missing or not self._can_load(modprobe, container):
            return None
        return self.change("load", f"load {' '.join(missing)}", data=tuple(missing))

    def note(self, output: str) -> str | None:
        missing, modprobe, container = self._state(output)
        if not missing or self._can_load(modprobe, container):
            return None
        why = f"a {container} container" if container != "none" else "no modprobe"
        return (f"kernel modules {' '.join(missing)} are not loaded and this host cannot load them ({why}): "
                f"its kernel's owner must; {MODULES_FILE} is written for a real boot")

    def fix(self, change: Change) -> str:
        return "set -e\n" + "".join(f"modprobe {q(m)}\n" for m in change.data)


@dataclass(frozen=True)
class SwapOff(Resource):
    """No active swap, and no swap line left in /etc/fstab (commented out, kept)."""

    @property
    def key(self) -> str:
        return "swap off"

    def probe(self) -> str:
        return (f"echo active $(tail -n +2 /proc/swaps | wc -l); "
                f"echo fstab $(grep -Ec {q(SWAP_LINE)} {FSTAB} 2>/dev/null || true)")

    def compare(self, output: str) -> Change | None:
        fields = dict(line.split(" ", 1) for line in lines(output) if " " in line)
        active, fstab = int(fields.get("active", "0") or 0), int(fields.get("fstab", "0") or 0)
        problems = ([f"{active} swap area(s) active"] if active else []) + ([f"{fstab} swap line(s) in {FSTAB}"] if fstab else [])
        return self.change("disable", "; ".join(problems)) if problems else None

    def fix(self, change: Change) -> str:
        # fstab is rewritten whole (never in place), its swap lines commented out.
        program = f'$0 ~ ENVIRON["FF_RE"] {{ print "# swap off for kubelet (fleetfab): " $0; next }} {{ print }}'
        return (
            "set -e\nswapoff -a\n"
            f"tmp=$(mktemp /etc/.fleetfab.XXXXXX)\ntrap 'rm -f \"$tmp\"' EXIT\n"
            f"FF_RE={q(SWAP_LINE)} awk {q(program)} {FSTAB} > \"$tmp\"\n"
            f"chown --reference={FSTAB} \"$tmp\"; chmod --reference={FSTAB} \"$tmp\"\n"
            f"{backup_script(FSTAB)}{replace_script(FSTAB)}"
        )


def resources(settings: dict):
    if settings["swap"] == "off":
        yield SwapOff()
    yield KernelModules()
    yield File(MODULES_FILE, "# Managed by fleetfab: loaded at boot for kubelet and the CNI.\n" + "".join(f"{m}\n" for m in MODULES))
    for name, value in SYSCTLS.items():
        yield Sysctl(name, value)
