"""pytest-testinfra, driven by the inventory: each module checks the hosts of its role.

A module names its role with a module-level `ROLE = "bind9"`; its tests then
run once per inventory host carrying that role (test id: the host name), with
`host` (a testinfra host over ssh) and `spec` (that host in the inventory).
A module without ROLE checks every host. `--inventory` and `--ssh-config`
choose the fleet, so the same suite checks the lab or a real fleet.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import testinfra

from fleetfab.inventory import InventoryError, load_inventory
from fleetfab.lab.paths import LabPaths, inventory_path

HERE = Path(__file__).resolve().parent
INVENTORY = pytest.StashKey()


def pytest_addoption(parser):
    # `--ssh-config` is testinfra's own option; only its default is ours.
    parser.getgroup("fleetfab").addoption(
        "--inventory", default=None,
        help="fleetfab inventory (default: $FLEETFAB_INVENTORY, else inventory/lab.yml)")


def ssh_config_path(config) -> Path:
    given = config.getoption("ssh_config", default=None)
    path = Path(given) if given else LabPaths().ssh_config
    if not path.is_file():
        raise pytest.UsageError(f"no ssh_config at {path}: run `fab lab.ssh-config` or pass --ssh-config")
    return path


def loaded_inventory(config):
    if INVENTORY not in config.stash:
        try:
            config.stash[INVENTORY] = load_inventory(inventory_path(config.getoption("inventory", default=None)))
        except InventoryError as exc:
            raise pytest.UsageError(f"inventory:\n{exc}") from None
    return config.stash[INVENTORY]


def hosts_for(inventory, role: str | None) -> list[str]:
    """Names of the hosts a module checks: those with its role, or all."""
    return [h.name for h in inventory.hosts.values() if role is None or role in h.roles]


def pytest_generate_tests(metafunc):
    if "inventory_host" in metafunc.fixturenames:
        names = hosts_for(loaded_inventory(metafunc.config), getattr(metafunc.module, "ROLE", None))
        metafunc.parametrize("inventory_host", names, ids=names, scope="module")


def pytest_collection_modifyitems(items):
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.infra)


@pytest.fixture(scope="session")
def inventory(pytestconfig):
    """The loaded fleetfab Inventory."""
    return loaded_inventory(pytestconfig)


@pytest.fixture(scope="session")
def connect(pytestconfig, tmp_path_factory):
    """testinfra host for an inventory host name, over ssh with the fleet's ssh_config.

    One master connection per host carries every command (ssh's ControlPath):
    a fresh ssh login per check would dominate the suite's run time.
    """
    ssh_config = str(ssh_config_path(pytestconfig))
    control = tmp_path_factory.mktemp("ssh")
    return lambda name: testinfra.get_host(f"ssh://{name}", ssh_config=ssh_config,
                                           controlpath=str(control / name))


@pytest.fixture(scope="module")
def spec(inventory, inventory_host):
    """The inventory's Host for the host under test."""
    return inventory.hosts[inventory_host]


@pytest.fixture(scope="module")
def host(connect, inventory_host):
    """The host under test, as a testinfra host."""
    return connect(inventory_host)
