"""fleetfab's `fab` tasks. The inventory is $FLEETFAB_INVENTORY (default inventory/hosts.yml).

`fabric.yaml` beside this package makes -H select inventory hosts and groups.
"""

from invoke import Collection

from fabfile import diagram, fleet, lab, mail, wireguard

ns = Collection(fleet.bootstrap, fleet.drift, fleet.inventory, fleet.roles, fleet.history)
ns.add_task(diagram.diagram)
ns.add_collection(Collection.from_module(lab), name="lab")
ns.add_collection(Collection.from_module(wireguard), name="wireguard")
ns.add_collection(Collection.from_module(mail), name="mail")
