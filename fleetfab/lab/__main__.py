"""`python -m fleetfab.lab machines`: the inventory's lab machines as JSON.

The Vagrantfile calls this so that Ruby never parses the inventory.
"""

from __future__ import annotations

import argparse
import json
import sys

from fleetfab.inventory import InventoryError, load_inventory
from fleetfab.lab.machines import LabSpecError, machines
from fleetfab.lab.paths import inventory_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fleetfab.lab")
    parser.add_argument("command", choices=["machines"])
    parser.add_argument("--inventory", help="inventory file (default: $FLEETFAB_INVENTORY, else inventory/lab.yml)")
    args = parser.parse_args(argv)
    try:
        inventory = load_inventory(inventory_path(args.inventory))
        specs = machines(inventory)
    except (InventoryError, LabSpecError, OSError) as exc:
        print(exc, file=sys.stderr)
        return 2
    json.dump(specs, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
