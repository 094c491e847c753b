"""fleetfab's `fab` tasks. The inventory is $FLEETFAB_INVENTORY (default inventory/hosts.yml).

`fabric.yaml` beside this package makes -H select inventory hosts and groups.
"""

from invoke import Collection

from fabfile import diagram, drift, fleet, kubernetes, lab, mail, vmhost, wireguard

ns = Collection(fleet.bootstrap, fleet.inventory, fleet.roles, fleet.history)
ns.add_task(diagram.diagram)
# `fab drift` is the check itself; `fab drift.status` what the ops host's scheduled checks found
drift_tasks = Collection("drift")
drift_tasks.add_task(fleet.drift, default=True)
drift_tasks.add_task(drift.status)
ns.add_collection(drift_tasks)
ns.add_collection(Collection.from_module(lab), name="lab")
ns.add_collection(Collection.from_module(wireguard), name="wireguard")
ns.add_collection(Collection.from_module(mail), name="mail")
ns.add_collection(Collection.from_module(kubernetes), name="kubernetes")
ns.add_collection(Collection.from_module(vmhost), name="vmhost")
