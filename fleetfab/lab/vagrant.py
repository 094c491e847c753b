"""Run Vagrant on the lab's Vagrantfile with an environment that stays offline.

Vagrant otherwise checks for new versions and box updates on the internet;
the lab only talks to its own machines.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from fleetfab.lab.paths import LabPaths
from fleetfab.lab.proc import run

OFFLINE = {
    "VAGRANT_CHECKPOINT_DISABLE": "1",
    "VAGRANT_BOX_UPDATE_CHECK_DISABLE": "1",
    "VAGRANT_NO_PLUGIN_UPDATE_CHECK": "1",
}


# Vagrant never picks docker by itself: where neither hypervisor's tools are
# installed, the lab runs on docker. The Vagrantfile applies the same rule.
LIBVIRT_SOCKET = Path("/var/run/libvirt/libvirt-sock")


def hardware_virtualization(cpuinfo: str) -> bool:
    """VT-x or AMD-V in the CPU flags: a device file /dev/kvm alone proves nothing (LAB-FACTS)."""
    return any(line.startswith("flags") and ({"vmx", "svm"} & set(line.split())) for line in cpuinfo.splitlines())


def libvirt_usable(which=shutil.which, socket: Path = LIBVIRT_SOCKET, cpuinfo: str | None = None) -> bool:
    """libvirt's tools, a running daemon and a CPU that virtualizes: its clients alone
    (installed here to validate the vmhost role's XML) are no hypervisor."""
    if which("virsh") is None or not socket.exists():
        return False
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            return False
    return hardware_virtualization(cpuinfo)


def default_provider(which=shutil.which, libvirt=libvirt_usable) -> str:
    """VAGRANT_DEFAULT_PROVIDER, else a usable hypervisor's provider, else docker."""
    if os.environ.get("VAGRANT_DEFAULT_PROVIDER"):
        return os.environ["VAGRANT_DEFAULT_PROVIDER"]
    if libvirt():
        return "libvirt"
    if which("VBoxManage"):
        return "virtualbox"
    return "docker"


def environment(paths: LabPaths, inventory: Path, provider: str) -> dict[str, str]:
    """The process environment for vagrant: offline, this inventory, this interpreter."""
    return {
        **os.environ,
        **OFFLINE,
        "VAGRANT_CWD": str(paths.vagrant_dir),
        "VAGRANT_DEFAULT_PROVIDER": provider,
        "FLEETFAB_INVENTORY": str(inventory),
        "FLEETFAB_PYTHON": os.environ.get("FLEETFAB_PYTHON") or sys.executable,
    }


def vagrant(args: list[str], paths: LabPaths, inventory: Path, provider: str = "docker",
            quiet: bool = False) -> subprocess.CompletedProcess:
    return run(["vagrant", *args], cwd=paths.vagrant_dir, quiet=quiet,
               env=environment(paths, inventory, provider))
