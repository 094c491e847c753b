"""Where roles are found: fleetfab's own and installed packages' (the `fleetfab.roles`
entry-point group), and the folders an inventory names (`roles_path`).

The engine imports no list of roles: fleetfab declares its built-ins as entry
points like any other package, and the role set belongs to an inventory
(`inventory.roles`), so a role that needs the others (bind9 serving their DNS
records) asks `ctx.inventory`, never this module. Two roles of one name are an
inventory problem naming both places: which one runs is never left to order.

A folder role is `<folder>/<name>.py` or `<folder>/<name>/__init__.py` defining
one `fleetfab.role.Role` subclass that sets `name = "<name>"` (a subclass that
inherits the name, a procedure's variant of the role, is not counted). It is imported under a private
module name (`_fleetfab_roles_<digest of the folder>.<name>`), never as a
top-level `<name>` that would shadow an installed package: a role package
imports its own modules relatively (`from .settings import SETTINGS`).
"""

from __future__ import annotations

import hashlib
import importlib.metadata as metadata
import importlib.util
import sys
import types
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from fleetfab.problems import InputError, Problem

GROUP = "fleetfab.roles"
#: the distribution whose entry points are fleetfab's built-in roles
OWN = "fleetfab"


@dataclass(frozen=True)
class Found:
    """A role and where it was found, said the way a clash or `fab roles` names it."""

    role: object
    origin: str
    #: the folder its templates are looked up in first (a folder role's `<name>/templates`), if any
    templates: Path | None = None
    #: the roles_path folder it came from (None: installed)
    folder: Path | None = None
    #: the installed distribution that declares it, when that is not fleetfab (the ops host installs it too)
    package: str | None = None


class RoleLoadError(Exception):
    """A role that could not be loaded: the message names the place."""


# -- installed: fleetfab's built-ins and other packages' entry points -------------

def _entry_points():
    return metadata.entry_points(group=GROUP)


def _distribution(entry) -> str:
    dist = getattr(entry, "dist", None)
    return dist.name if dist is not None else "?"


def entry_origin(entry) -> str:
    owner = _distribution(entry)
    kind = "fleetfab's built-in" if owner == OWN else f"package {owner}'s"
    return f"{kind} (entry point {entry.name} = {entry.value})"


def _load_entry(entry) -> Found:
    origin = entry_origin(entry)
    try:
        cls = entry.load()
    except Exception as exc:
        raise RoleLoadError(f"{origin} cannot be loaded: {type(exc).__name__}: {exc}") from None
    owner = _distribution(entry)
    return Found(_instance(cls, entry.name, origin), origin, package=None if owner == OWN else owner)


@cache
def installed() -> tuple[dict[str, Found], tuple[str, ...]]:
    """(name -> Found, problems): the roles of the entry-point group, loaded once per process."""
    found: dict[str, Found] = {}
    problems = []
    for entry in sorted(_entry_points(), key=lambda e: (_distribution(e) != OWN, e.name)):
        try:
            role = _load_entry(entry)
        except RoleLoadError as exc:
            problems.append(str(exc))
            continue
        if entry.name in found:
            problems.append(f"role {entry.name!r}: {role.origin} and {found[entry.name].origin}: two roles of one name")
            continue
        found[entry.name] = role
    if not any(_distribution(entry) == OWN for entry in _entry_points()):
        problems.append("fleetfab's own roles are not registered: its installed metadata predates their entry points "
                        "(reinstall fleetfab: pip install -e . in a checkout)")
    return found, tuple(problems)


def installed_roles() -> dict:
    """name -> role: fleetfab's built-ins and installed packages' roles (no inventory's folders)."""
    found, problems = installed()
    if problems:
        raise InputError([Problem(f"entry points {GROUP}", 0, "(roles)", p) for p in problems])
    return {name: f.role for name, f in found.items()}


def all_roles() -> dict:
    """Kept for callers with no inventory at hand; those with one read `inventory.roles`."""
    return installed_roles()


# -- a folder of the inventory's roles_path ----------------------------------

def _instance(cls, name: str, origin: str):
    from fleetfab.role import Role

    if not (isinstance(cls, type) and issubclass(cls, Role)):
        raise RoleLoadError(f"{origin} is not a subclass of fleetfab.role.Role")
    if getattr(cls, "name", None) != name:
        raise RoleLoadError(f"{origin}: its class says name = {getattr(cls, 'name', None)!r}, not {name!r}")
    try:
        return cls()
    except Exception as exc:
        raise RoleLoadError(f"{origin}: {cls.__name__}() failed: {type(exc).__name__}: {exc}") from None


def role_files(folder: Path) -> dict[str, Path]:
    """name -> the file that defines it: `<name>.py` or `<name>/__init__.py` (names starting with _ or . skipped)."""
    found = {}
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith(("_", ".")):
            continue
        if entry.is_file() and entry.suffix == ".py":
            found[entry.stem] = entry
        elif entry.is_dir() and (entry / "__init__.py").is_file():
            found[entry.name] = entry / "__init__.py"
    return found


def _namespace(folder: Path) -> str:
    """A private parent module for one folder's roles: two folders may each hold a role called `app`."""
    name = "_fleetfab_roles_" + hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:12]
    if name not in sys.modules:
        parent = types.ModuleType(name, f"roles found in {folder}")
        parent.__path__ = []
        sys.modules[name] = parent
    return name


def _import(name: str, file: Path, parent: str):
    full = f"{parent}.{name}"
    if full in sys.modules:
        return sys.modules[full]
    package = file.name == "__init__.py"
    spec = importlib.util.spec_from_file_location(full, file, submodule_search_locations=[str(file.parent)] if package else None)
    module = importlib.util.module_from_spec(spec)
    sys.modules[full] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(full, None)
        raise
    return module


def _role_class(module, name: str, file: Path):
    from fleetfab.role import Role

    classes = {value for value in vars(module).values()
               if isinstance(value, type) and issubclass(value, Role) and value.__module__.startswith(module.__name__)
               and value.__dict__.get("name") == name}
    if len(classes) != 1:
        found = "none" if not classes else ", ".join(sorted(c.__name__ for c in classes))
        raise RoleLoadError(f"{file} must define exactly one subclass of fleetfab.role.Role that sets name = {name!r} "
                            f"(found: {found})")
    return classes.pop()


def templates_beside(file: Path, name: str) -> Path:
    """`<folder>/<name>/templates`, for `<name>.py` and `<name>/__init__.py` alike."""
    return (file.parent if file.name == "__init__.py" else file.parent / name) / "templates"


def templates_of(role) -> Path | None:
    """The templates folder beside the module that defines `role`'s class, if there is one
    (a role handed over without where it was found still finds its templates)."""
    module = sys.modules.get(type(role).__module__)
    file = getattr(module, "__file__", None)
    if not file:
        return None
    folder = templates_beside(Path(file), getattr(role, "name", ""))
    return folder if folder.is_dir() else None


def given(role) -> Found:
    """A role handed to the loader (a test's, another inventory's), not found by it."""
    return Found(role, "given", templates_of(role))


def load_folder_role(name: str, file: Path, parent: str, folder: Path) -> Found:
    try:
        module = _import(name, file, parent)
    except Exception as exc:
        raise RoleLoadError(f"{file} cannot be imported: {type(exc).__name__}: {exc}") from None
    cls = _role_class(module, name, file)
    templates = templates_beside(file, name)
    return Found(_instance(cls, name, str(file)), str(file), templates if templates.is_dir() else None, folder)


def folder_roles(folder: Path) -> tuple[dict[str, Found], list[str]]:
    """(name -> Found, problems) for one roles_path folder."""
    parent = _namespace(folder)
    found, problems = {}, []
    for name, file in role_files(folder).items():
        try:
            found[name] = load_folder_role(name, file, parent, folder)
        except RoleLoadError as exc:
            problems.append(str(exc))
    return found, problems


# -- an inventory's role set -------------------------------------------------------

@dataclass(frozen=True)
class RoleFolder:
    """One entry of an inventory's roles_path: the folder, and where the inventory names it."""

    path: Path
    file: str
    line: int
    field: str


def discover(folders: list[RoleFolder]) -> tuple[dict[str, Found], list[Problem]]:
    """Every role an inventory may use: installed ones, then each folder's; clashes named."""
    found, installed_problems = installed()
    found = dict(found)
    problems = [Problem(f"entry points {GROUP}", 0, "(roles)", p) for p in installed_problems]
    for folder in folders:
        if not folder.path.is_dir():
            problems.append(Problem(folder.file, folder.line, folder.field, f"no folder {folder.path} (roles_path is relative to the inventory file)"))
            continue
        roles, trouble = folder_roles(folder.path)
        problems += [Problem(folder.file, folder.line, folder.field, message) for message in trouble]
        for name, role in roles.items():
            if name in found:
                problems.append(Problem(folder.file, folder.line, folder.field,
                                        f"role {name!r} of {role.origin} is also {found[name].origin}: two roles of one name"))
                continue
            found[name] = role
    return found, problems
