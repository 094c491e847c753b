"""The validated inventory: hosts, groups and their merged settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from fleetfab.closest import did_you_mean
from fleetfab.problems import InputError, Problem


@dataclass(frozen=True)
class SshSettings:
    user: str = "root"
    port: int = 22
    identity: Path | None = None
    known_hosts: Path | None = None
    trust_on_first_use: bool = False
    connect_timeout: int = 10
    read_timeout: int = 120


@dataclass(frozen=True)
class Group:
    name: str
    children: tuple[str, ...]
    roles: tuple[str, ...]
    vars: dict
    line: int
    #: the group's `upgrade:` section as written (lines kept): fleetfab/upgrade/batches.py reads it
    upgrade: dict = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Host:
    name: str
    address: str
    port: int
    user: str
    groups: tuple[str, ...]
    roles: tuple[str, ...]
    vars: dict
    lab: dict
    line: int = 0
    #: the guest's declaration (`vm:`, lines kept), None for a host that is not a VM guest
    vm: dict | None = None
    #: the host SSH goes through to reach this one (a VM host, for a guest on its private network)
    gateway: "Host | None" = field(default=None, repr=False, compare=False)
    #: the host's own `vars` as written (lines kept), to tell where a merged setting came from
    own_vars: dict = field(default_factory=dict, repr=False, compare=False)

    def settings(self, role: str) -> dict:
        """This host's merged settings for one role (role defaults included)."""
        return self.vars.get(role, {})

    def has_role(self, role: str) -> bool:
        return role in self.roles

    @property
    def hypervisor(self) -> str | None:
        """The VM host this host is a guest of."""
        return self.vm["host"] if self.vm else None


class SelectionError(InputError):
    """A host or group name that the inventory does not know."""


@dataclass
class Inventory:
    path: Path
    hosts: dict[str, Host]
    groups: dict[str, Group]
    vars: dict = field(default_factory=dict)
    ssh: SshSettings = field(default_factory=SshSettings)
    parallel: int = 10
    lab: dict = field(default_factory=dict)
    #: line of `run.read_only: true`, 0 when the inventory may apply
    read_only: int = 0
    #: an ops host's copy (roles/controller), not the operator's own inventory
    ops_copy: bool = False
    #: every role this inventory may use, and where each was found (fleetfab.registry.Found)
    found: dict = field(default_factory=dict, repr=False)
    #: the folders `roles_path` names, resolved, in its order (the ops host gets copies of them)
    roles_path: tuple[Path, ...] = ()

    @property
    def roles(self) -> dict:
        """name -> role: fleetfab's, installed packages' and this inventory's roles_path folders'."""
        return {name: found.role for name, found in self.found.items()}


    def members(self, group: str) -> list[Host]:
        return [h for h in self.hosts.values() if group in h.groups]

    def with_role(self, role: str) -> list[Host]:
        return [h for h in self.hosts.values() if role in h.roles]

    def select(self, spec: str | None) -> list[Host]:
        """Hosts named by a comma-separated list of host and group names.

        No names at all means every host; an unknown name is an error, so a
        typo never silently shrinks the set of hosts a run touches.
        """
        names = [n.strip() for n in (spec or "").split(",") if n.strip()]
        if not names:
            return list(self.hosts.values())
        chosen: set[str] = set()
        unknown = []
        for name in names:
            if name in self.hosts:
                chosen.add(name)
            elif name in self.groups:
                chosen.update(h.name for h in self.members(name))
            else:
                unknown.append(name)
        if unknown:
            raise SelectionError(
                [Problem("-H", 0, name, f"neither a host nor a group of {self.path}{did_you_mean(name, [*self.hosts, *self.groups])}")
                 for name in unknown]
            )
        return [h for h in self.hosts.values() if h.name in chosen]
