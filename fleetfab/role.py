"""What a role is: desired state stated as data, from the inventory alone.

A role never touches a host. The engine asks it for resources, reads the host,
and applies the difference, so every role can be tested without a host.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Iterable

from fleetfab.inventory.yamlmarks import line_of
from fleetfab.problems import Problem
from fleetfab.schema import Record

if TYPE_CHECKING:
    from fleetfab.exports import ExportBook
    from fleetfab.inventory.model import Host, Inventory
    from fleetfab.resources.base import Resource


class Role:
    """Base of every role; subclasses describe a service."""

    name: ClassVar[str]
    #: roles that, when a host carries both, are applied before this one
    after: ClassVar[tuple[str, ...]] = ()
    #: every tunable of the role, documented in the schema
    settings: ClassVar[Record] = Record({})
    defaults: ClassVar[dict] = {}

    def check(self, inventory: "Inventory") -> Iterable[Problem]:
        """Fleet-wide checks of this role's settings, after merging."""
        return ()

    def prepare(self, ctx: "RoleContext") -> Iterable["Resource"]:
        """Resources applied before any host's desired state is computed.

        They make the values in `exports` exist (a key pair, a TSIG key).
        """
        return ()

    def exports(self, ctx: "RoleContext") -> dict[str, "Export"]:
        """Values read from this host, after `prepare`, for other hosts' state."""
        return {}

    def resources(self, ctx: "RoleContext") -> Iterable["Resource"]:
        return ()

    def handlers(self, ctx: "RoleContext") -> dict[str, str]:
        """Shell commands that run once, after the role, if a resource notified them."""
        return {}


@dataclass(frozen=True)
class Export:
    """A value published by a host: the shell command that prints it.

    A secret export (a TSIG key) is redacted wherever it could be printed.
    """

    command: str
    secret: bool = False


class RoleContext:
    """Everything a role may look at for one host: the inventory and exports."""

    def __init__(self, inventory: "Inventory", host: "Host", role: str, exports: "ExportBook | None" = None, force: bool = False):
        self.inventory = inventory
        self.host = host
        self.role = role
        self._exports = exports
        #: the operator asked to override a role's safety refusals (--force)
        self.force = force

    @property
    def settings(self) -> dict:
        return self.host.settings(self.role)

    def members(self) -> list["Host"]:
        """Every host of the inventory that carries this role, this one included."""
        return self.inventory.with_role(self.role)

    def export(self, host: str, key: str, role: str | None = None) -> str:
        if self._exports is None:
            from fleetfab.exports import MissingExport

            raise MissingExport(host, role or self.role, key, "exports were not read in this run")
        return self._exports.get(host, role or self.role, key)

    def template(self, name: str, **values) -> str:
        from fleetfab.templates import render

        return render(name, host=self.host, inventory=self.inventory, settings=self.settings, **values)


def settings_problem(inventory: "Inventory", host: "Host", role: str, key: str, message: str) -> Problem:
    """A problem with one of a host's role settings, pinned to where it was written."""
    line = line_of(host.settings(role), key, host.line)
    return Problem(str(inventory.path), line, f"hosts.{host.name}.vars.{role}.{key}", message)
