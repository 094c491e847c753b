"""`python -m fleetfab.lab machines`: the inventory's lab machines as JSON.

The Vagrantfile calls this so that Ruby never parses the inventory. With
`--provider`, an inventory without that provider's box is refused here, so
Vagrant never starts a machine without a box.
"""

from __future__ import annotations

import argparse
import json
import sys

from fleetfab.inventory import InventoryError, load_inventory
from fleetfab.lab.machines import LabSpecError, box_problems, machines
from fleetfab.lab.paths import inventory_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fleetfab.lab")
    parser.add_argument("command", choices=["machines"])
    parser.add_argument("--inventory", help="inventory file (default: $FLEETFAB_INVENTORY, else inventory/lab.yml)")
    parser.add_argument("--provider", help="the Vagrant provider in use: its box must be named")
    args = parser.parse_args(argv)
    try:
        inventory = load_inventory(inventory_path(args.inventory))
        if args.provider and (problems := box_problems(inventory, args.provider)):
            raise InventoryError(problems)
        specs = machines(inventory)
    except (InventoryError, LabSpecError, OSError) as exc:
        print(exc, file=sys.stderr)
        return 2
    json.dump(specs, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
