"""Bring the lab up, tear it down, describe it: the steps behind `fab lab.*`."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from fleetfab.inventory import InventoryError, load_inventory
from fleetfab.lab import box, conflicts, hostkeys, keys, sshconfig
from fleetfab.lab.machines import box_problems, docker_boxes, lab_machines
from fleetfab.lab.paths import LabPaths, inventory_path
from fleetfab.lab.proc import LabError, run
from fleetfab.lab.sshwait import wait_for_sshd
from fleetfab.lab.vagrant import default_provider, vagrant

SSHD_TIMEOUT = 120.0


@dataclass
class Lab:
    """One lab: an inventory, the repository's lab files and a Vagrant provider."""

    inventory_file: Path = field(default_factory=inventory_path)
    paths: LabPaths = field(default_factory=LabPaths)
    provider: str = field(default_factory=default_provider)

    @cached_property
    def inventory(self):
        return load_inventory(self.inventory_file)

    @property
    def key(self) -> Path:
        return self.inventory.ssh.identity or self.paths.key

    @property
    def known_hosts(self) -> Path:
        return self.inventory.ssh.known_hosts or self.paths.known_hosts

    def check_boxes(self) -> None:
        """Refuse, as an inventory problem, a provider the inventory names no box for."""
        problems = box_problems(self.inventory, self.provider)
        if problems:
            raise InventoryError(problems)

    def vagrant(self, *args: str, quiet: bool = False):
        self.check_boxes()
        return vagrant(list(args), self.paths, self.inventory_file, self.provider, quiet=quiet)


def ensure_box(lab: Lab, mirror: str | None = None, log=print) -> bool:
    """Build the docker box when its recipe changed; other providers use ready boxes."""
    if lab.provider != "docker":
        return False
    public_key = keys.ensure_key(lab.key)
    built = False
    for image, release in docker_boxes(lab.inventory).items():
        plan = box.plan(image, lab.paths.box_recipe, lab.paths.box_cache, public_key, mirror, suite=release)
        built |= box.ensure_box(plan, log)
    return built


def write_ssh_config(lab: Lab) -> Path:
    """Write the lab's ssh_config (inventory addresses, lab key, lab known_hosts)."""
    target = lab.paths.ssh_config
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(sshconfig.render(lab.inventory, lab.key, lab.known_hosts))
    return target


def wait_until_reachable(lab: Lab, timeout: float = SSHD_TIMEOUT) -> None:
    targets = {h.name: (h.address, h.port) for h in lab_machines(lab.inventory)}
    silent = wait_for_sshd(targets, timeout)
    if silent:
        raise LabError(f"sshd did not answer within {timeout:.0f} s on: {', '.join(silent)}")


def up(lab: Lab, mirror: str | None = None, log=print) -> None:
    """Key, box, machines (in parallel), ssh_config, then wait for every sshd."""
    lab.check_boxes()
    keys.ensure_key(lab.key)
    started = time.monotonic()
    rebuilt = ensure_box(lab, mirror, log)
    log(f"box: ready ({time.monotonic() - started:.1f} s)")
    take_addresses(lab, log)
    existing = set(created_machines(lab))
    if rebuilt and existing:
        log("box: rebuilt; machines created earlier keep the old box until `fab lab.rebuild`")
    lab.vagrant("up", f"--provider={lab.provider}", "--parallel")
    forget_host_keys(lab, [h for h in lab_machines(lab.inventory) if h.name not in existing])
    log(f"ssh_config: {write_ssh_config(lab)}")
    wait_until_reachable(lab)
    if lab.provider == "docker":
        recorded = hostkeys.record_host_keys(lab_machines(lab.inventory), lab.paths.vagrant_dir, lab.known_hosts)
        if recorded:
            log(f"known_hosts: host keys read from {len(recorded)} machine(s) themselves")
    log(f"lab: {len(lab_machines(lab.inventory))} machines answer ssh ({time.monotonic() - started:.1f} s)")


def take_addresses(lab: Lab, log=print) -> None:
    """Remove lab machines this checkout's Vagrant does not know that hold its addresses."""
    if lab.provider == "docker":
        addresses = {h.address for h in lab_machines(lab.inventory)}
        conflicts.remove_foreign_machines(lab.paths.vagrant_dir / ".vagrant", addresses, log)


def created_machines(lab: Lab) -> list[str]:
    """Names of machines Vagrant has created (running or not)."""
    out = lab.vagrant("status", "--machine-readable", quiet=True).stdout
    rows = [line.split(",") for line in out.splitlines()]
    return [r[1] for r in rows if len(r) > 3 and r[2] == "state" and r[3] != "not_created"]


def forget_host_keys(lab: Lab, hosts) -> None:
    """Drop known_hosts entries of machines just created: they made new host keys."""
    if not lab.known_hosts.exists():
        return
    for h in hosts:
        for name in (h.address, h.name):
            run(["ssh-keygen", "-q", "-R", name, "-f", str(lab.known_hosts)], quiet=True)
    lab.known_hosts.with_name(lab.known_hosts.name + ".old").unlink(missing_ok=True)


def destroy(lab: Lab) -> None:
    """Destroy every machine and forget their host keys: new machines get new ones."""
    lab.vagrant("destroy", "-f", "--parallel")
    lab.known_hosts.unlink(missing_ok=True)


def status(lab: Lab) -> None:
    lab.vagrant("status")
