"""Where a VM host keeps base images, guest disks, seeds and consoles."""

from __future__ import annotations

from dataclasses import dataclass

CONSOLES = "/var/log/libvirt/qemu"


@dataclass(frozen=True)
class Layout:
    root: str

    @classmethod
    def of(cls, settings: dict) -> "Layout":
        pool = settings["pool"]
        # guest disks are qcow2 overlays: files, in a folder even beside an LVM pool
        return cls(pool.get("path") or "/var/lib/libvirt/images/fleetfab")

    @property
    def images(self) -> str:
        return f"{self.root}/base"

    @property
    def disks(self) -> str:
        return f"{self.root}/guests"

    @property
    def seeds(self) -> str:
        return f"{self.root}/seed"

    def disk(self, guest: str) -> str:
        return f"{self.disks}/{guest}.qcow2"

    def seed(self, guest: str) -> str:
        return f"{self.seeds}/{guest}.iso"

    def console(self, guest: str) -> str:
        return f"{CONSOLES}/{guest}-console.log"
