"""The `fleetfab` command: fleetfab's tasks from the installed package, run from any folder.

`fab` finds a fabfile by walking up from the current folder, so it works only
in a clone. This is Fabric's own program given fleetfab's collection and
executor (-H selects inventory hosts and groups), plus `--inventory PATH`,
which says what $FLEETFAB_INVENTORY says.
"""

from __future__ import annotations

import importlib.metadata
import os

from fabric.config import Config
from fabric.main import Fab
from invoke import Argument

from fleetfab.cli.executor import FleetExecutor
from fleetfab.cli.options import refuse_ignored


class FleetProgram(Fab):
    def core_args(self):
        return super().core_args() + [
            Argument(names=("inventory",), help="inventory file (default: $FLEETFAB_INVENTORY, else inventory/hosts.yml)"),
        ]

    def update_config(self):
        refuse_ignored(self.args)  # before Fabric reads -S or -i
        inventory = self.args.inventory.value
        if inventory:
            os.environ["FLEETFAB_INVENTORY"] = inventory
        super().update_config()


def main() -> None:
    from fleetfab.tasks import ns

    FleetProgram(name="fleetfab", binary="fleetfab", namespace=ns, version=importlib.metadata.version("fleetfab"),
                 executor_class=FleetExecutor, config_class=Config).run()
