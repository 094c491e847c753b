"""The lab tasks (`fab lab.*`): a Vagrant lab built from the inventory.

scripts/setup installs and starts what the lab needs (Vagrant, dockerd,
debootstrap, QEMU's tools); these tasks only parse options and call fleetfab.lab.
"""

from invoke import Exit, task

from fleetfab.inventory import InventoryError
from fleetfab.lab import guestimage, lifecycle, rebuild as rebuilding
from fleetfab.lab.lifecycle import Lab
from fleetfab.lab.paths import inventory_path
from fleetfab.lab.proc import LabError

HELP = {
    "inventory": "inventory file (default: $FLEETFAB_INVENTORY, else inventory/lab.yml)",
    "provider": "Vagrant provider (default: docker unless libvirt or VirtualBox is installed)",
    "mirror": "Debian mirror for the box (default: read from this host's apt sources)",
}


def _help(*names: str) -> dict:
    return {n: HELP[n] for n in names}


def _lab(inventory=None, provider=None) -> Lab:
    lab = Lab(inventory_path(inventory))
    if provider:
        lab.provider = provider
    return lab


def _run(step, lab: Lab, *args) -> None:
    """Validate the inventory before any tool runs, then report failures in one line."""
    try:
        lab.inventory
        step(lab, *args)
    except (LabError, InventoryError) as exc:
        raise Exit(f"lab: {exc}", code=1)


@task(help=_help("inventory", "provider", "mirror"))
def up(c, inventory=None, provider=None, mirror=None):
    """Build the box (and the guest image) if its recipe changed, bring every machine up, write ssh_config."""
    _run(_up, _lab(inventory, provider), mirror)


def _up(lab: Lab, mirror) -> None:
    ensure_guest_image(lab, mirror)
    lifecycle.up(lab, mirror)


def ensure_guest_image(lab: Lab, mirror=None) -> None:
    """The docker lab's VM host boots its guests from this image: build it when a guest is declared."""
    if lab.provider == "docker" and guestimage.declares_guest(lab.inventory):
        guestimage.ensure_guest_image(lab.paths, mirror)


@task(help=_help("inventory", "provider"))
def destroy(c, inventory=None, provider=None):
    """Destroy every lab machine and forget their host keys."""
    _run(lifecycle.destroy, _lab(inventory, provider))


@task(help=_help("inventory", "provider"))
def status(c, inventory=None, provider=None):
    """Show Vagrant's view of the lab machines."""
    _run(lifecycle.status, _lab(inventory, provider))


@task(help=_help("inventory"))
def ssh_config(c, inventory=None):
    """Write .lab/ssh_config: inventory addresses, the lab key, the lab known_hosts."""
    _run(lambda lab: print(lifecycle.write_ssh_config(lab)), _lab(inventory))


@task(help=_help("inventory", "mirror"))
def box(c, inventory=None, mirror=None):
    """Build the docker provider's box now (lab.up does this when needed)."""
    _run(lifecycle.ensure_box, _lab(inventory, "docker"), mirror)


@task(help=_help("mirror"))
def guest_image(c, mirror=None):
    """Build the lab guest's base image now into .lab/guest/ (lab.up does this when a guest is declared)."""
    try:
        guestimage.ensure_guest_image(_lab().paths, mirror)
    except LabError as exc:
        raise Exit(f"lab: {exc}", code=1)


@task(help=_help("inventory", "provider", "mirror"))
def rebuild(c, inventory=None, provider=None, mirror=None):
    """Destroy, up, bootstrap, bootstrap again (must change nothing), testinfra; timed."""
    _run(_rebuild, _lab(inventory, provider), mirror)


def _rebuild(lab: Lab, mirror) -> None:
    lab.check_boxes()
    ensure_guest_image(lab, mirror)
    failed = [r.name for r in rebuilding.rebuild(lab, mirror) if not r.ok]
    if failed:
        raise LabError(f"rebuild failed at stage {failed[0]!r}")
