"""fleetfab's tasks, as one invoke collection: `fab` in a clone (fabfile/ re-exports it) and
the installed `fleetfab` command (fleetfab.tasks.program) run the same tasks.

The inventory is $FLEETFAB_INVENTORY, `fleetfab --inventory PATH`, else inventory/hosts.yml.

An operator's own fabfile imports `ns` and adds its tasks to it (`ns.add_task(mine)`); with
fleetfab's fabric.yaml beside it, `fab -H` takes inventory hosts and groups for them too, and
fleetfab.procedure runs their steps through the engine.
"""

from invoke import Collection

from fleetfab.tasks import diagram, drift, fleet, hostkeys, kubernetes, lab, mail, start, upgrade, vmhost, wireguard

ns = Collection(fleet.bootstrap, fleet.inventory, fleet.roles, fleet.history, start.init)
ns.add_task(diagram.diagram)
ns.add_task(upgrade.upgrade)
ns.add_task(upgrade.release_upgrade)
# `fab drift` is the check itself; `fab drift.status` what the ops host's scheduled checks found
drift_tasks = Collection("drift")
drift_tasks.add_task(fleet.drift, default=True)
drift_tasks.add_task(drift.status)
ns.add_collection(drift_tasks)
ns.add_collection(Collection.from_module(hostkeys), name="hostkeys")
ns.add_collection(Collection.from_module(lab), name="lab")
ns.add_collection(Collection.from_module(wireguard), name="wireguard")
ns.add_collection(Collection.from_module(mail), name="mail")
ns.add_collection(Collection.from_module(kubernetes), name="kubernetes")
ns.add_collection(Collection.from_module(vmhost), name="vmhost")
