"""fleetfab's `fab` tasks. The inventory is $FLEETFAB_INVENTORY (default inventory/hosts.yml)."""

from invoke import Collection

from fabfile import fleet

ns = Collection(fleet.bootstrap, fleet.drift, fleet.inventory)
try:
    from fabfile import lab
except ImportError:  # the lab tasks need nothing more than the engine; see fabfile/lab.py
    lab = None
if lab is not None:
    ns.add_collection(Collection.from_module(lab), name="lab")
ns.configure({"tasks": {"executor_class": "fleetfab.cli.executor.FleetExecutor"}})
