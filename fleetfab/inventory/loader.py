"""Reading and validating an inventory file.

Everything is checked before anything connects: syntax, unknown keys, unknown
roles and groups, group cycles, duplicate hosts and addresses, and every role's
own settings. All problems are collected and raised together.
"""

from __future__ import annotations

import dataclasses

import ipaddress
import os
from pathlib import Path

from fleetfab.closest import did_you_mean
from fleetfab.inventory.jumps import declared_jumps, reach_through
from fleetfab.inventory.merge import merge_all
from fleetfab.inventory.model import Group, Host, Inventory, SshSettings
from fleetfab.inventory.sections import INVENTORY
from fleetfab.inventory.yamlmarks import MarkedDict, line_of, load_marked
from fleetfab.problems import InputError, Problem
from fleetfab.registry import Found, RoleFolder, discover, given
from fleetfab.schema import Where, field_label

DEFAULT_PATH = "inventory/hosts.yml"


def _where_hint(path: Path) -> str:
    """What to do when the default inventory is not there (fleetfab run outside a clone, or no inventory yet)."""
    if os.environ.get("FLEETFAB_INVENTORY") or str(path) != DEFAULT_PATH:
        return ""
    return ("; name yours with FLEETFAB_INVENTORY=PATH or fleetfab --inventory PATH "
            "(`fleetfab init` writes a starting one)")


def default_inventory_path() -> Path:
    return Path(os.environ.get("FLEETFAB_INVENTORY") or DEFAULT_PATH)


def load_inventory(path: str | os.PathLike | None = None, roles: dict | None = None) -> Inventory:
    """Load, validate and merge an inventory; raise InputError listing every problem.

    The inventory's roles are found here (fleetfab.registry: installed ones and
    the folders of its `roles_path`); `roles` replaces them: name -> role (tests'
    own roles), or name -> Found (another inventory's, templates beside them kept).
    """
    path = Path(path) if path is not None else default_inventory_path()
    try:
        text = path.read_text()
    except OSError as exc:
        raise InputError([Problem(str(path), 0, "(file)", f"cannot read inventory: {exc.strerror}{_where_hint(path)}")]) from None
    data = load_marked(text, str(path))
    if roles is not None:
        return _Builder(path, data, {name: role if isinstance(role, Found) else given(role) for name, role in roles.items()}).build()
    found, problems = discover(role_folders(path, data))
    return _Builder(path, data, found, problems).build()


def roles_of(path: Path) -> tuple[dict, list[Problem]]:
    """(name -> Found, problems): the roles an inventory file may use, found without validating the rest
    of it (`fab roles`); the installed ones alone when there is no such file."""
    try:
        data = load_marked(path.read_text(), str(path))
    except OSError:
        return discover([])
    except InputError as exc:
        found, problems = discover([])
        return found, exc.problems + problems
    return discover(role_folders(path, data))


def role_folders(path: Path, data) -> list[RoleFolder]:
    """The folders `roles_path` names, each resolved from the inventory file's own folder."""
    listed = data.get("roles_path") if isinstance(data, dict) else None
    if not isinstance(listed, list):
        return []
    return [RoleFolder((path.parent / Path(folder).expanduser()).resolve(), str(path), line_of(listed, index, line_of(data, "roles_path", 0)),
                       f"roles_path[{index}]")
            for index, folder in enumerate(listed) if isinstance(folder, str) and folder]


class _Builder:
    def __init__(self, path: Path, data, found: dict, problems: list[Problem] | None = None):
        self.path = path
        self.file = str(path)
        self.data = data
        self.found = found
        self.roles = {name: f.role for name, f in found.items()}
        self.problems: list[Problem] = list(problems or [])

    def problem(self, container, key, field: str, message: str) -> None:
        self.problems.append(Problem(self.file, line_of(container, key, 0), field, message))

    def build(self) -> Inventory:
        if not isinstance(self.data, dict):
            raise InputError([Problem(self.file, 1, "(top)", "an inventory is a mapping with at least 'hosts'")])
        self.problems += INVENTORY.check(self.data, Where(self.file, 1, ""))
        groups = self._section("groups")
        hosts = self._section("hosts")
        self._check_vars(self.data.get("vars"), "vars")
        self._check_groups(groups)
        self._check_hosts(hosts, groups)
        inventory = self._assembled(groups, hosts)
        if inventory is not None:
            self._fleet_checks(inventory)
        if self.problems:
            raise InputError(self.problems)
        return self._with_gateways(inventory)

    def _assembled(self, groups: dict, hosts: dict) -> Inventory | None:
        """The merged inventory, or None when values refused above leave too little to merge."""
        try:
            return self._assemble(groups, hosts)
        except Exception:
            if not self.problems:
                raise
            return None

    def _fleet_checks(self, inventory: Inventory) -> None:
        """The checks of the merged inventory (required settings, jumps, each role's fleet-wide
        rules), run even when some values were refused, so every problem is reported at once.
        A check that trips over a refused value, or names the line of one, says nothing more:
        that value's problem is reported."""
        shaped, refused = not self.problems, {p.line for p in self.problems}
        checks = [lambda: self._check_required_settings(inventory), lambda: self._reach(inventory, guests={})[1]]
        checks += [lambda role=role: list(role.check(inventory)) for role in self.roles.values()]
        for check in checks:
            try:
                self.problems += [p for p in check() or [] if p.line not in refused]
            except Exception:
                if shaped:
                    raise

    def _with_gateways(self, inventory: Inventory) -> Inventory:
        """Give each host the host it is reached through: its jump host, or as the roles say (a guest's VM host)."""
        guests = {name: via for role in self.roles.values() for name, via in role.gateways(inventory).items()}
        through, problems = self._reach(inventory, guests)
        if problems:
            raise InputError(problems)
        for name in _reach_order(through):
            host = inventory.hosts[name]
            inventory.hosts[name] = dataclasses.replace(host, gateway=inventory.hosts[through[name]])
        return inventory

    def _reach(self, inventory: Inventory, guests: dict[str, str]) -> tuple[dict[str, str], list[Problem]]:
        jumps = declared_jumps(self.data, {name: host.groups for name, host in inventory.hosts.items()})
        return reach_through(self.file, jumps, guests, set(inventory.hosts))

    def _section(self, name: str) -> dict:
        value = self.data.get(name)
        return {k: (v if isinstance(v, dict) else MarkedDict()) for k, v in value.items()} if isinstance(value, dict) else {}

    # -- checks -----------------------------------------------------------

    def _check_vars(self, variables, path: str) -> None:
        if not isinstance(variables, dict):
            return
        for role_name, settings in variables.items():
            role = self.roles.get(role_name)
            if role is None:
                known = ", ".join(sorted(self.roles))
                self.problem(variables, role_name, path + field_label(role_name),
                             f"not a role{did_you_mean(role_name, self.roles)} (vars hold one section per role: {known})")
                continue
            where = Where(self.file, line_of(variables, role_name, 0), path + field_label(role_name))
            self.problems += role.settings.check(settings, where, partial=True)

    def _check_names(self, path: str, names, known, what: str) -> None:
        if not isinstance(names, list):
            return
        for index, name in enumerate(names):
            if isinstance(name, str) and name not in known:
                self.problem(names, index, f"{path}[{index}]", f"unknown {what} {name!r}{did_you_mean(name, known)}")

    def _check_groups(self, groups: dict) -> None:
        for name, group in groups.items():
            base = "groups" + field_label(name)
            self._check_names(f"{base}.children", group.get("children"), groups, "group")
            self._check_names(f"{base}.roles", group.get("roles"), self.roles, "role")
            self._check_vars(group.get("vars"), f"{base}.vars")
        for cycle in _cycles(groups):
            first = cycle[0]
            self.problem(self.data.get("groups"), first, f"groups{field_label(first)}.children", "group cycle: " + " -> ".join(cycle))

    def _check_hosts(self, hosts: dict, groups: dict) -> None:
        seen: dict = {}
        for name, host in hosts.items():
            base = "hosts" + field_label(name)
            if name in groups:
                self.problem(self.data["hosts"], name, base, f"{name!r} is also a group name; -H could not tell them apart")
            self._check_names(f"{base}.groups", host.get("groups"), groups, "group")
            self._check_names(f"{base}.roles", host.get("roles"), self.roles, "role")
            self._check_vars(host.get("vars"), f"{base}.vars")
            address = _normal_address(host.get("address"))
            endpoint = (address, host.get("port", (self.data.get("ssh") or {}).get("port", 22)))
            if address is not None and endpoint in seen:
                self.problem(host, "address", f"{base}.address", f"address {host['address']} (port {endpoint[1]}) is already used by host {seen[endpoint]!r}")
            elif address is not None:
                seen[endpoint] = name

    def _check_required_settings(self, inventory: Inventory) -> list[Problem]:
        """Required role settings may come from any layer, so check them merged."""
        return [Problem(self.file, host.line, f"hosts.{host.name}.vars.{name}.{key}", "required, and no layer sets it")
                for host in inventory.hosts.values() for name in host.roles
                for key, spec in self.roles[name].settings.fields.items()
                if spec.required and key not in host.settings(name)]

    # -- assembly ---------------------------------------------------------

    def _assemble(self, groups: dict, hosts: dict) -> Inventory:
        ssh = self._ssh()
        parents = _parents(groups)
        depth = {g: _depth(g, parents) for g in groups}
        order = {g: i for i, g in enumerate(groups)}
        group_objs = {
            name: Group(name, tuple(g.get("children") or ()), tuple(g.get("roles") or ()), g.get("vars") or {}, line_of(self.data["groups"], name, 0),
                        g.get("upgrade") or {})
            for name, g in groups.items()
        }
        host_objs = {}
        for name, raw in hosts.items():
            member_of = sorted(_ancestors(raw.get("groups") or [], parents), key=lambda g: (depth[g], order[g]))
            host_objs[name] = self._host(name, raw, member_of, group_objs, ssh)
        run = self.data.get("run") or {}
        return Inventory(
            path=self.path,
            hosts=host_objs,
            groups=group_objs,
            vars=self.data.get("vars") or {},
            ssh=ssh,
            parallel=run.get("parallel", 10),
            lab=self._lab(),
            read_only=line_of(run, "read_only", 1) if run.get("read_only") else 0,
            ops_copy=bool(run.get("ops_copy")),
            found=self.found,
            roles_path=tuple(folder.path for folder in role_folders(self.path, self.data)),
        )

    def _lab(self) -> MarkedDict:
        """The lab section, still knowing its lines (the `lab:` line where a key is absent)."""
        raw = self.data.get("lab") or {}
        return MarkedDict(raw, line=line_of(self.data, "lab", 0), key_lines=getattr(raw, "key_lines", {}))

    def _host(self, name: str, raw: dict, member_of: list[str], groups: dict[str, Group], ssh: SshSettings) -> Host:
        roles = _unique([r for g in member_of for r in groups[g].roles] + list(raw.get("roles") or ()))
        roles = _order_roles(roles, self.roles)
        layers = [self.data.get("vars") or {}] + [groups[g].vars for g in member_of] + [raw.get("vars") or {}]
        merged = {}
        for role in _unique(roles + [k for layer in layers for k in layer]):
            defaults = getattr(self.roles.get(role), "defaults", {})
            merged[role] = merge_all([defaults] + [layer.get(role) or {} for layer in layers])
        return Host(
            name=name,
            address=str(raw["address"]),
            port=raw.get("port", ssh.port),
            user=raw.get("user", ssh.user),
            groups=tuple(member_of),
            roles=tuple(roles),
            vars=merged,
            lab=dict(raw.get("lab") or {}),
            line=line_of(self.data["hosts"], name, 0),
            vm=raw.get("vm"),
            own_vars=raw.get("vars") or {},
        )

    def _ssh(self) -> SshSettings:
        raw = self.data.get("ssh") or {}
        folder = self.path.parent

        def resolve(value):
            return None if value is None else (folder / Path(value).expanduser()).resolve()

        return SshSettings(
            user=raw.get("user", "root"),
            port=raw.get("port", 22),
            identity=resolve(raw.get("identity")),
            known_hosts=resolve(raw.get("known_hosts")),
            trust_on_first_use=raw.get("trust_on_first_use", False),
            connect_timeout=raw.get("connect_timeout", 10),
            read_timeout=raw.get("read_timeout", 120),
        )


def _reach_order(through: dict[str, str]) -> list[str]:
    """Hosts with a gateway, each after its own gateway (a guest of a guest last)."""
    ordered: list[str] = []

    def place(name, path=()):
        if name in ordered or name not in through or name in path:
            return
        place(through[name], path + (name,))
        ordered.append(name)

    for name in through:
        place(name)
    return ordered


def _normal_address(value):
    try:
        return ipaddress.ip_address(value)
    except (ValueError, TypeError):
        return None


def _parents(groups: dict) -> dict[str, list[str]]:
    parents: dict[str, list[str]] = {g: [] for g in groups}
    for name, group in groups.items():
        for child in group.get("children") or ():
            if child in parents:
                parents[child].append(name)
    return parents


def _ancestors(direct, parents: dict[str, list[str]]) -> set[str]:
    found: set[str] = set()
    todo = [g for g in direct if g in parents]
    while todo:
        group = todo.pop()
        if group not in found:
            found.add(group)
            todo.extend(parents[group])
    return found


def _depth(group: str, parents: dict[str, list[str]], seen=()) -> int:
    above = [p for p in parents.get(group, ()) if p not in seen]
    return 1 + max((_depth(p, parents, seen + (group,)) for p in above), default=-1)


def _cycles(groups: dict) -> list[list[str]]:
    """Each cycle among group children once, as the path that closes it."""
    cycles, done = [], set()

    def visit(name, path):
        if name in path:
            cycle = path[path.index(name):] + [name]
            if frozenset(cycle) not in done:
                done.add(frozenset(cycle))
                cycles.append(cycle)
            return
        for child in (groups.get(name) or {}).get("children") or ():
            if isinstance(child, str) and child in groups:
                visit(child, path + [name])

    for name in groups:
        visit(name, [])
    return cycles


def _unique(items: list) -> list:
    return list(dict.fromkeys(items))


def _order_roles(names: list[str], roles: dict) -> list[str]:
    """Keep the written order, but put each role after the roles it follows."""
    placed: list[str] = []

    def place(name, stack=()):
        if name in placed or name in stack:
            return
        for before in getattr(roles.get(name), "after", ()):
            if before in names:
                place(before, stack + (name,))
        placed.append(name)

    for name in names:
        place(name)
    return placed
