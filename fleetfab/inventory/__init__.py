"""The YAML inventory: hosts, groups, roles and their settings."""

from fleetfab.inventory.loader import default_inventory_path, load_inventory
from fleetfab.inventory.model import Group, Host, Inventory, SelectionError, SshSettings
from fleetfab.problems import InputError, Problem

InventoryError = InputError

__all__ = [
    "Group", "Host", "InputError", "Inventory", "InventoryError", "Problem",
    "SelectionError", "SshSettings", "default_inventory_path", "load_inventory",
]
