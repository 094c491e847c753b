"""What a role is: desired state stated as data, from the inventory alone.

A role never touches a host. The engine asks it for resources, reads the host,
and applies the difference, so every role can be tested without a host.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, ClassVar, Iterable

from fleetfab.inventory.yamlmarks import line_of
from fleetfab.problems import Problem
from fleetfab.schema import Record
from fleetfab.shapes import LINE, Shape

if TYPE_CHECKING:
    from fleetfab.dns import DnsRecord
    from fleetfab.exports import ExportBook
    from fleetfab.inventory.model import Host, Inventory
    from fleetfab.release import Release
    from fleetfab.resources.base import Resource


class Role:
    """Base of every role; subclasses describe a service."""

    name: ClassVar[str]
    #: roles that, when a host carries both, are applied before this one
    after: ClassVar[tuple[str, ...]] = ()
    #: every tunable of the role, documented in the schema
    settings: ClassVar[Record] = Record({})
    defaults: ClassVar[dict] = {}
    #: packages whose installed versions this role renders for, besides
    #: fleetfab.release.WATCHED: read with the host's release (ctx.package_version)
    versions: ClassVar[tuple[str, ...]] = ()

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

    def dynamic_zones(self, inventory: "Inventory") -> Iterable[tuple[str, str]]:
        """(host, name) pairs: `host` proves control of `name` by ACME DNS-01. The
        bind9 primaries give each name a challenge zone that only the ACME keys
        of the hosts proving it may update (one key per host)."""
        return ()

    def after_bootstrap(self, inventory: "Inventory", hosts: list["Host"]) -> Callable[[], int] | None:
        """A multi-host procedure a bootstrap of `hosts` ends with once every one of
        them converged (a cluster's init and joins, one node at a time), or None.
        It returns an exit code."""
        return None

    def host_keys(self, inventory: "Inventory", host: "Host"):
        """A `fleetfab.keysource.KeySource` for a host whose SSH host keys another
        host can tell out of band (a guest's VM host, from its console), or None."""
        return None

    def gateways(self, inventory: "Inventory") -> dict[str, str]:
        """Hosts reached only through another host of the fleet: name -> that host's name."""
        return {}

    def dns_records(self, ctx: "RoleContext") -> Iterable["DnsRecord"]:
        """Records this role contributes to the fleet's zones (see fleetfab.dns).

        `ctx` is the serving host's context: read this role's exports with
        `ctx.export(host, key, role=self.name)`.
        """
        return ()

    # -- rolling upgrades (fleetfab.upgrade) ------------------------------------------

    def health(self, ctx: "RoleContext") -> Iterable["Resource"]:
        """Read-only checks that the service answers (`fleetfab.health.HealthCheck`s), run on the
        host after an upgrade, besides its drift: a name server answers its zones, mail is accepted."""
        return ()

    def down_together(self, members: int) -> int | None:
        """How many of this role's `members` hosts an upgrade may take down at once; None: no limit of its own."""
        return None

    def out_of_service(self, inventory: "Inventory", host: "Host") -> dict[str, list["Resource"]]:
        """Resources that take `host` out of service before it goes down (a node drained), by the host they run on."""
        return {}

    def back_in_service(self, inventory: "Inventory", host: "Host") -> dict[str, list["Resource"]]:
        """The reverse of `out_of_service`, once the host is back and healthy."""
        return {}


class Idle(Role):
    """Stands in for a role during a procedure (a rotation, a guest's restart): states nothing."""

    def __init__(self, name: str):
        self.name = name


def procedure_roles(inventory, **acting: Role) -> dict:
    """Every role of the inventory idle but the `acting` ones: a procedure changes only what it is about."""
    names = {r for host in inventory.hosts.values() for r in host.roles}
    return {**{name: Idle(name) for name in names}, **acting}


@dataclass(frozen=True)
class Export:
    """A value published by a host: the shell command that prints it, and its shape.

    What the host prints is untrusted: it is used only if it fits `shape`
    exactly (see fleetfab.shapes), and the default admits one printable line
    only. A secret export (a TSIG key) is redacted wherever it could be
    printed, and never remembered on the controller. `remember=False` is for
    values that are only true now (a zone's current serial): a host that
    cannot be read has none, rather than an old one.
    """

    command: str
    secret: bool = False
    remember: bool = True
    shape: Shape = LINE


class RoleContext:
    """Everything a role may look at for one host: the inventory and exports."""

    def __init__(self, inventory: "Inventory", host: "Host", role: str, exports: "ExportBook | None" = None, force: bool = False,
                 release: "Release | None" = None):
        self.inventory = inventory
        self._release = release
        self.host = host
        self.role = role
        self._exports = exports
        #: the operator asked to override a role's safety refusals (--force)
        self.force = force
        #: values this host's state was computed from that came from memory
        self.recalled: list = []
        #: things the role could not compare now, and said so
        self.notes: list[str] = []

    @property
    def settings(self) -> dict:
        return self.host.settings(self.role)

    @property
    def release(self) -> "Release":
        """The host's release (`.codename`, `.version_id`), read with its lock; known to `resources`,
        not to `prepare` (which runs before the host is read)."""
        if self._release is None:
            raise LookupError(f"the release of {self.host.name} is not known here (it is read before a role's resources)")
        return self._release

    def package_version(self, name: str) -> str | None:
        """The installed version of package `name` (watched: fleetfab.release.WATCHED or Role.versions), or None."""
        return self.release.package_version(name)

    def members(self) -> list["Host"]:
        """Every host of the inventory that carries this role, this one included."""
        return self.inventory.with_role(self.role)

    def export(self, host: str, key: str, role: str | None = None) -> str:
        """A value `host` publishes; from memory, noted, when the host cannot be read now."""
        from fleetfab.exports import MissingExport

        if self._exports is None:
            raise MissingExport(host, role or self.role, key, "exports were not read in this run")
        value, recalled = self._exports.lookup(host, role or self.role, key)
        if recalled is not None and recalled not in self.recalled:
            self.recalled.append(recalled)
        return value

    def optional_export(self, host: str, key: str, what: str, role: str | None = None) -> str | None:
        """A value the role can do without for now: None, with a note saying `what` it means."""
        from fleetfab.exports import MissingExport

        try:
            return self.export(host, key, role)
        except MissingExport as exc:
            self.notes.append(f"{what}: {exc.why}")
            return None

    def template(self, name: str, /, **values) -> str:
        """Render `name` from the role's own `templates/` folder (a roles_path role's), else fleetfab's."""
        from fleetfab.templates import render

        found = getattr(self.inventory, "found", {}).get(self.role)
        known = {"release": self._release} if self._release is not None else {}
        return render(name, beside=getattr(found, "templates", None), host=self.host, inventory=self.inventory,
                      settings=self.settings, **{**known, **values})


def needs_exports(build: Callable[[], Iterable["Resource"]], what: str, keep: str | None = None) -> list["Resource"]:
    """The resources `build` states, or one `Blocked` in their place if an export is missing.

    Only these resources wait for the missing value: the rest of the role,
    and the roles after it, still converge. With `keep`, the file at that
    path is the host's current copy of the value, left as it is.
    """
    from fleetfab.exports import MissingExport
    from fleetfab.resources.blocked import Blocked

    try:
        return list(build())
    except MissingExport as exc:
        return [Blocked(what, str(exc), keep=keep)]


def settings_problem(inventory: "Inventory", host: "Host", role: str, key: str, message: str) -> Problem:
    """A problem with one of a host's role settings, pinned to where it was written."""
    line = line_of(host.settings(role), key, host.line)
    return Problem(str(inventory.path), line, f"hosts.{host.name}.vars.{role}.{key}", message)


def written_in(inventory: "Inventory", host: "Host", role: str, *keys) -> str:
    """The layer a host's merged setting `role.keys...` came from, as a field path: 'hosts.ns1.vars',
    'groups.dns.vars' or 'vars' (the most specific layer that writes it); the host's own when none does."""
    layers = [(f"hosts.{host.name}.vars", host.own_vars)]
    layers += [(f"groups.{name}.vars", inventory.groups[name].vars) for name in reversed(host.groups) if name in inventory.groups]
    layers += [("vars", inventory.vars)]
    for path, layer in layers:
        value = layer.get(role) if isinstance(layer, dict) else None
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        if value is not None:
            return path
    return f"hosts.{host.name}.vars"
