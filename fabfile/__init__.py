"""fleetfab's `fab` tasks in a clone: the collection of fleetfab.tasks, which the installed
`fleetfab` command runs too. The inventory is $FLEETFAB_INVENTORY (default inventory/hosts.yml).

`fabric.yaml` beside this package makes -H select inventory hosts and groups.
"""

from fleetfab.tasks import ns

__all__ = ["ns"]
