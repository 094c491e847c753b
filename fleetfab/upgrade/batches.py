"""Which hosts an upgrade takes down together.

A batch is at most `size` hosts (one unless the operator asks for more), in
inventory order, and respects every limit: a role's own (`Role.down_together`:
the name servers, the edge hosts and the cluster's nodes never all at once)
and each group's `upgrade: {down_together: N}`. A host that would break a
limit waits for a later batch; the order is otherwise kept, so the plan is the
same every time for the same inventory.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    """At most `most` of `members` in one batch; `source` says who set it, for the plan's words."""

    source: str
    members: frozenset[str]
    most: int


def role_limits(inventory) -> list[Limit]:
    limits = []
    for name, role in sorted(inventory.roles.items()):
        members = frozenset(h.name for h in inventory.with_role(name))
        most = role.down_together(len(members)) if members else None
        if most is not None:
            limits.append(Limit(f"role {name}", members, max(1, most)))
    return limits


def group_limits(inventory) -> list[Limit]:
    limits = []
    for name, group in inventory.groups.items():
        most = (group.upgrade or {}).get("down_together")
        if most is not None:
            line = f" ({inventory.path}:{group.line})" if group.line else ""
            limits.append(Limit(f"group {name}{line}", frozenset(h.name for h in inventory.members(name)), int(most)))
    return limits


def limits_of(inventory) -> list[Limit]:
    return role_limits(inventory) + group_limits(inventory)


def plan_batches(hosts: list[str], limits: list[Limit], size: int = 1) -> list[list[str]]:
    """`hosts` (in order) cut into batches of at most `size`, none breaking a limit."""
    if size < 1:
        raise ValueError("a batch holds at least one host")
    waiting = list(hosts)
    batches = []
    while waiting:
        batch: list[str] = []
        for name in list(waiting):
            if len(batch) == size:
                break
            if all(name not in limit.members or sum(1 for b in batch if b in limit.members) < limit.most for limit in limits):
                batch.append(name)
                waiting.remove(name)
        batches.append(batch)
    return batches


def alone_in_role(inventory, hosts: list[str]) -> list[str]:
    """Notes for hosts that are the only one of a role that limits itself: that service is down while they upgrade."""
    notes = []
    for limit in role_limits(inventory):
        if len(limit.members) == 1 and set(limit.members) & set(hosts):
            (name,) = limit.members
            notes.append(f"{name} is the fleet's only host of {limit.source}: that service is down while it upgrades")
    return notes
