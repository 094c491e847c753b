"""Jump hosts: the host SSH goes through to reach another (ssh's ProxyJump).

`ssh.jump` names it for every host, a group's `jump` for the group's
members, a host's own `jump` for that host; the most specific wins. A jump
host may have its own jump, so chains follow. A jump named by the fleet or a
group is not applied to the very host it names (the bastion itself is
reached directly); a host naming itself, an unknown host or a loop is an
inventory problem. A VM guest on a NAT network is reached through its VM
host (roles/vmhost), which may itself be behind a jump host.
"""

from __future__ import annotations

from dataclasses import dataclass

from fleetfab.inventory.yamlmarks import line_of
from fleetfab.problems import Problem
from fleetfab.schema import field_label


@dataclass(frozen=True)
class Jump:
    via: str
    #: where it is written: line and field, for problems
    line: int
    field: str
    #: written on the host itself (not inherited from a group or the ssh section)
    own: bool


def declared_jumps(data: dict, host_groups: dict[str, tuple[str, ...]]) -> dict[str, Jump]:
    """Each host's jump as the inventory declares it, the most specific setting winning.

    `host_groups` lists each host's groups from the widest to the most specific.
    """
    hosts, groups, ssh = data.get("hosts") or {}, data.get("groups") or {}, data.get("ssh") or {}
    found = {}
    for name, raw in hosts.items():
        raw = raw if isinstance(raw, dict) else {}
        if "jump" in raw:
            found[name] = Jump(raw["jump"], line_of(raw, "jump", 0), f"hosts{field_label(name)}.jump", own=True)
            continue
        named = [g for g in host_groups.get(name, ()) if isinstance(groups.get(g), dict) and "jump" in groups[g]]
        if named:
            group = groups[named[-1]]
            found[name] = Jump(group["jump"], line_of(group, "jump", 0), f"groups{field_label(named[-1])}.jump", own=False)
        elif "jump" in ssh:
            found[name] = Jump(ssh["jump"], line_of(ssh, "jump", 0), "ssh.jump", own=False)
    return found


def reach_through(file: str, jumps: dict[str, Jump], guests: dict[str, str], known: set[str]) -> tuple[dict[str, str], list[Problem]]:
    """host -> the host it is reached through, and the problems of the declared jumps.

    `guests` are the roles' gateways (a VM guest's VM host): they win over
    an inherited jump, and a guest's own `jump` is a problem.
    """
    problems: list[Problem] = []
    through: dict[str, str] = {}
    for name, jump in jumps.items():
        if name in guests:
            if jump.own:
                problems.append(Problem(file, jump.line, jump.field, f"{name} is a VM guest reached through its VM host "
                                                                     f"{guests[name]!r}; set the jump on that host instead"))
        elif jump.via not in known:
            problems.append(Problem(file, jump.line, jump.field, f"unknown host {jump.via!r}: a jump host is a host of this inventory"))
        elif jump.via == name:
            if jump.own:
                problems.append(Problem(file, jump.line, jump.field, f"{name} cannot be its own jump host"))
        else:
            through[name] = jump.via
    through.update(guests)
    for cycle in _loops(through):
        jump = jumps.get(cycle[0])
        line, field = (jump.line, jump.field) if jump else (0, f"hosts{field_label(cycle[0])}")
        problems.append(Problem(file, line, field, "jump hosts in a loop: " + " -> ".join(cycle)))
    return through, problems


def _loops(through: dict[str, str]) -> list[list[str]]:
    """Each loop of the reach graph once, from its first host in the inventory's order."""
    loops, seen = [], set()
    for start in through:
        path = [start]
        while path[-1] in through and through[path[-1]] not in path:
            path.append(through[path[-1]])
        nxt = through.get(path[-1])
        if nxt is None:
            continue
        loop = path[path.index(nxt):]
        if frozenset(loop) not in seen:
            seen.add(frozenset(loop))
            first = min(loop, key=list(through).index)
            at = loop.index(first)
            loop = loop[at:] + loop[:at]
            loops.append(loop + [first])
    return loops
