"""wireguard-go, installed only where the running kernel cannot do WireGuard.

Whether the kernel can is a fact of the host, read by the probe: the module
is loaded or built in (/sys/module/wireguard), or modprobe finds it for the
running kernel. wg-quick itself falls back to wireguard-go when creating a
kernel interface fails, so this only has to make sure the binary is there.
"""

from __future__ import annotations

from dataclasses import dataclass

from fleetfab.resources.base import Change, Resource, lines
from fleetfab.resources.package import Packages

PACKAGE = "wireguard-go"

KERNEL_PROBE = (
    "if [ -d /sys/module/wireguard ] || "
    "{ command -v modprobe >/dev/null && modprobe -nq wireguard; }; then echo kernel; else echo userspace; fi"
)


@dataclass(frozen=True)
class UserspaceFallback(Resource):
    @property
    def key(self) -> str:
        return f"packages {PACKAGE} (when the kernel has no wireguard)"

    def probe(self) -> str:
        return f"{KERNEL_PROBE}; dpkg-query -W -f='${{db:Status-Status}}\\n' {PACKAGE} 2>/dev/null || echo missing"

    def compare(self, output: str) -> Change | None:
        found = lines(output) + ["", ""]
        kernel, status = found[0].strip(), found[1].strip()
        if kernel == "kernel" or status == "installed":
            return None
        return self.change("install", f"install {PACKAGE}: the kernel has no WireGuard module", data=(PACKAGE,))

    def fix(self, change: Change) -> str:
        return Packages((PACKAGE,)).fix(change)
