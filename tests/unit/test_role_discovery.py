"""Roles are found in fleetfab, in installed packages (entry points) and in an inventory's roles_path folders.

Each test writes an operator's roles into its own folder and loads an
inventory that names them, exactly as an operator's repository would.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from fleetfab import registry
from fleetfab.hostrun import exports_of
from fleetfab.inventory import InputError, load_inventory
from fleetfab.role import RoleContext
from tests.unit.roles_written import installed_package, site, write, write_module_role, write_notes_role  # noqa: F401

HOST = "hosts:\n  n1: {address: 198.51.100.1, roles: [notes], vars: {notes: {root: /srv/notes}}}\n"


def inventory_file(folder: Path, text: str, name: str = "hosts.yml") -> Path:
    return write(folder / name, text)


def problems_of(path: Path) -> list[str]:
    with pytest.raises(InputError) as caught:
        load_inventory(path)
    return [str(p) for p in caught.value.problems]


@pytest.fixture
def project(tmp_path):
    """An operator's project: inventory/ and roles/ side by side, the notes role in roles/."""
    write_notes_role(tmp_path / "roles")
    return tmp_path


def test_a_package_role_in_the_roles_path_is_found(project):
    inventory = load_inventory(inventory_file(project / "inventory", "roles_path: [../roles]\n" + HOST))
    assert type(inventory.roles["notes"]).__name__ == "Notes"
    assert inventory.hosts["n1"].roles == ("notes",)


def test_built_in_roles_are_found_beside_the_operators(project):
    inventory = load_inventory(inventory_file(project / "inventory", "roles_path: [../roles]\n" + HOST))
    assert {"base", "bind9", "mail", "wireguard", "notes"} <= set(inventory.roles)
    assert inventory.found["mail"].origin == "fleetfab's built-in (entry point mail = fleetfab.roles.mail:Mail)"


def test_the_roles_path_is_relative_to_the_inventory_file_not_the_working_folder(project, tmp_path, monkeypatch):
    path = inventory_file(project / "inventory", "roles_path: [../roles]\n" + HOST)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert "notes" in load_inventory(path).roles


def test_a_module_role_is_found(tmp_path):
    write_module_role(tmp_path / "roles", "motd")
    inventory = load_inventory(inventory_file(tmp_path, "roles_path: [roles]\nhosts:\n  n1: {address: 198.51.100.1, roles: [motd]}\n"))
    assert inventory.found["motd"].origin == str(tmp_path / "roles" / "motd.py")


def test_a_folder_that_does_not_exist_is_named_with_its_line(tmp_path):
    path = inventory_file(tmp_path, "hosts: {}\nroles_path:\n  - roles\n  - missing\n")
    (tmp_path / "roles").mkdir()
    assert problems_of(path) == [
        f"{path}:4: roles_path[1]: no folder {tmp_path / 'missing'} (roles_path is relative to the inventory file)"]


def test_a_role_of_the_same_name_as_a_built_in_one_is_refused_naming_both(tmp_path):
    file = write_module_role(tmp_path / "roles", "mail")
    path = inventory_file(tmp_path, "roles_path: [roles]\nhosts: {}\n")
    assert problems_of(path) == [
        f"{path}:1: roles_path[0]: role 'mail' of {file} is also fleetfab's built-in "
        f"(entry point mail = fleetfab.roles.mail:Mail): two roles of one name"]


def test_two_folders_with_a_role_of_one_name_are_refused_naming_both(tmp_path):
    first = write_module_role(tmp_path / "a", "motd")
    second = write_module_role(tmp_path / "b", "motd")
    path = inventory_file(tmp_path, "roles_path: [a, b]\nhosts: {}\n")
    assert problems_of(path) == [f"{path}:1: roles_path[1]: role 'motd' of {second} is also {first}: two roles of one name"]


def test_a_module_without_its_role_class_is_named(tmp_path):
    file = write(tmp_path / "roles" / "motd.py", "from fleetfab.role import Role\n\n\nclass Motd(Role):\n    name = 'banner'\n")
    path = inventory_file(tmp_path, "roles_path: [roles]\nhosts: {}\n")
    assert problems_of(path) == [f"{path}:1: roles_path[0]: {file} must define exactly one subclass of fleetfab.role.Role "
                                 "that sets name = 'motd' (found: none)"]


def test_a_module_that_fails_to_import_is_named_with_its_error(tmp_path):
    file = write(tmp_path / "roles" / "motd.py", "import no_such_module_anywhere\n")
    path = inventory_file(tmp_path, "roles_path: [roles]\nhosts: {}\n")
    assert problems_of(path) == [f"{path}:1: roles_path[0]: {file} cannot be imported: "
                                 "ModuleNotFoundError: No module named 'no_such_module_anywhere'"]


def test_helpers_whose_names_start_with_an_underscore_are_not_roles(tmp_path):
    write(tmp_path / "roles" / "_shared.py", "VALUE = 1\n")
    write_module_role(tmp_path / "roles", "motd")
    inventory = load_inventory(inventory_file(tmp_path, "roles_path: [roles]\nhosts: {}\n"))
    assert "_shared" not in inventory.roles and "motd" in inventory.roles


def test_a_subclass_inheriting_the_role_name_is_not_a_second_role(project):
    inventory = load_inventory(inventory_file(project / "inventory", "roles_path: [../roles]\n" + HOST))
    module = sys.modules[type(inventory.roles["notes"]).__module__]
    assert module.Finishing.name == "notes" and type(inventory.roles["notes"]) is module.Notes


def test_a_role_package_is_not_importable_by_its_bare_name(project):
    load_inventory(inventory_file(project / "inventory", "roles_path: [../roles]\n" + HOST))
    assert "notes" not in sys.modules and "notes.settings" not in sys.modules
    assert type(load_inventory(project / "inventory" / "hosts.yml").roles["notes"]).__module__.endswith(".notes")


def test_two_projects_may_each_have_a_role_of_one_name(tmp_path):
    write_module_role(tmp_path / "one" / "roles", "motd", "marker = 'one'\n")
    write_module_role(tmp_path / "two" / "roles", "motd", "marker = 'two'\n")
    first = load_inventory(inventory_file(tmp_path / "one", "roles_path: [roles]\nhosts: {}\n"))
    second = load_inventory(inventory_file(tmp_path / "two", "roles_path: [roles]\nhosts: {}\n"))
    assert (first.roles["motd"].marker, second.roles["motd"].marker) == ("one", "two")


def test_an_operator_roles_settings_are_checked_with_file_and_line(project):
    path = inventory_file(project / "inventory", """\
        roles_path: [../roles]
        hosts:
          n1:
            address: 198.51.100.1
            roles: [notes]
            vars:
              notes:
                root: /srv/notes
                size: 1000
                colour: red
        """)
    assert problems_of(path) == [
        f"{path}:9: hosts.n1.vars.notes.size: expected a whole number from 1 to 100, got 1000",
        f"{path}:10: hosts.n1.vars.notes.colour: unknown key 'colour' (known keys: root, size, title)",
    ]


def test_an_operator_roles_required_setting_is_required(project):
    path = inventory_file(project / "inventory", "roles_path: [../roles]\nhosts:\n  n1: {address: 198.51.100.1, roles: [notes]}\n")
    assert problems_of(path) == [f"{path}:3: hosts.n1.vars.notes.root: required, and no layer sets it"]


def test_a_misspelt_operator_role_is_met_with_did_you_mean(project):
    path = inventory_file(project / "inventory", "roles_path: [../roles]\nhosts:\n  n1: {address: 198.51.100.1, roles: [notse]}\n")
    assert problems_of(path) == [f"{path}:3: hosts.n1.roles[0]: unknown role 'notse' (did you mean 'notes'?)"]


def test_an_operator_roles_defaults_are_merged_like_a_built_in_ones(project):
    inventory = load_inventory(inventory_file(project / "inventory", "roles_path: [../roles]\n" + HOST))
    assert inventory.hosts["n1"].settings("notes") == {"title": "notes", "size": 10, "root": "/srv/notes"}


def test_an_operator_roles_exports_are_read_like_a_built_in_ones(project):
    inventory = load_inventory(inventory_file(project / "inventory", "roles_path: [../roles]\n" + HOST))
    wanted = exports_of(inventory, inventory.hosts["n1"], inventory.roles)
    assert [(role, key, export.command) for role, key, export in wanted] == [("notes", "identity", "cat /srv/notes/identity")]


def test_an_operator_roles_handlers_are_its_own(project):
    inventory = load_inventory(inventory_file(project / "inventory", "roles_path: [../roles]\n" + HOST))
    ctx = RoleContext(inventory, inventory.hosts["n1"], "notes")
    assert inventory.roles["notes"].handlers(ctx) == {"reload notes": "echo reloaded >> /srv/notes/handler.log"}


def test_a_template_beside_a_module_role_is_rendered(tmp_path):
    write_module_role(tmp_path / "roles", "motd", """\
        def resources(self, ctx):
            from fleetfab.resources import File
            yield File("/etc/motd", ctx.template("motd.j2", word="hello"))
        """)
    write(tmp_path / "roles" / "motd" / "templates" / "motd.j2", "{{ word }} from {{ host.name }}\n")
    inventory = load_inventory(inventory_file(tmp_path, "roles_path: [roles]\nhosts:\n  n1: {address: 198.51.100.1, roles: [motd]}\n"))
    [motd] = inventory.roles["motd"].resources(RoleContext(inventory, inventory.hosts["n1"], "motd"))
    assert motd.content == "hello from n1\n"


def test_fleetfabs_own_templates_stay_reachable_from_an_operator_role(tmp_path):
    write_module_role(tmp_path / "roles", "motd")
    (tmp_path / "roles" / "motd" / "templates").mkdir(parents=True)
    inventory = load_inventory(inventory_file(tmp_path, "roles_path: [roles]\nhosts:\n  n1: {address: 198.51.100.1, roles: [motd]}\n"))
    text = RoleContext(inventory, inventory.hosts["n1"], "motd").template("base/hosts.j2", entries=[("198.51.100.1", "n1")])
    assert text.startswith("# Managed by fleetfab from the inventory")


def test_a_template_beside_one_role_is_not_found_by_another(tmp_path):
    write_module_role(tmp_path / "roles", "motd")
    write_module_role(tmp_path / "roles", "banner")
    write(tmp_path / "roles" / "motd" / "templates" / "motd.j2", "motd\n")
    inventory = load_inventory(inventory_file(tmp_path, "roles_path: [roles]\nhosts:\n  n1: {address: 198.51.100.1, roles: [motd, banner]}\n"))
    from jinja2 import TemplateNotFound

    with pytest.raises(TemplateNotFound):
        RoleContext(inventory, inventory.hosts["n1"], "banner").template("motd.j2")


def test_a_folder_role_handed_to_another_inventory_keeps_its_templates(tmp_path):
    write_module_role(tmp_path / "roles", "motd", """\
        def resources(self, ctx):
            from fleetfab.resources import File
            yield File("/etc/motd", ctx.template("motd.j2"))
        """)
    write(tmp_path / "roles" / "motd" / "templates" / "motd.j2", "hello\n")
    text = "roles_path: [roles]\nhosts:\n  n1: {address: 198.51.100.1, roles: [motd]}\n"
    first = load_inventory(inventory_file(tmp_path, text))
    copy = load_inventory(inventory_file(tmp_path / "copy", "hosts:\n  n1: {address: 198.51.100.1, roles: [motd]}\n"),
                          roles=first.roles)
    [motd] = copy.roles["motd"].resources(RoleContext(copy, copy.hosts["n1"], "motd"))
    assert motd.content == "hello\n"


def test_the_inventory_roles_set_is_the_one_the_run_uses(project, monkeypatch):
    from fleetfab import runner

    inventory = load_inventory(inventory_file(project / "inventory", "roles_path: [../roles]\n" + HOST))
    seen = {}
    monkeypatch.setattr(runner, "exports_of", lambda inv, host, roles: seen.setdefault("roles", roles) and [])
    runner.run_fleet(inventory, [], runner.RunOptions(apply=False, purpose="drift"), runner._Quiet())
    assert seen["roles"]["notes"] is inventory.roles["notes"]


# -- installed packages: the entry-point group ----------------------------------------

def test_a_role_of_an_installed_package_is_found_through_its_entry_point(site, tmp_path):
    installed_package(site, "proxy = acme_roles.proxy:Proxy", "proxy",
                      "from fleetfab.role import Role\n\n\nclass Proxy(Role):\n    name = 'proxy'\n")
    inventory = load_inventory(inventory_file(tmp_path, "hosts:\n  n1: {address: 198.51.100.1, roles: [proxy]}\n"))
    assert inventory.found["proxy"].origin == "package acme-roles's (entry point proxy = acme_roles.proxy:Proxy)"


def test_an_entry_point_whose_class_has_another_name_is_refused(site, tmp_path):
    installed_package(site, "proxy = acme_roles.proxy:Proxy", "proxy",
                      "from fleetfab.role import Role\n\n\nclass Proxy(Role):\n    name = 'relay'\n")
    path = inventory_file(tmp_path, "hosts: {}\n")
    assert problems_of(path) == [
        "entry points fleetfab.roles: (roles): package acme-roles's (entry point proxy = acme_roles.proxy:Proxy): "
        "its class says name = 'relay', not 'proxy'"]


def test_an_installed_role_named_like_a_built_in_one_is_refused_naming_both(site, tmp_path):
    installed_package(site, "mail = acme_roles.mail:Mail", "mail",
                      "from fleetfab.role import Role\n\n\nclass Mail(Role):\n    name = 'mail'\n")
    assert problems_of(inventory_file(tmp_path, "hosts: {}\n")) == [
        "entry points fleetfab.roles: (roles): role 'mail': package acme-roles's (entry point mail = acme_roles.mail:Mail) "
        "and fleetfab's built-in (entry point mail = fleetfab.roles.mail:Mail): two roles of one name"]


def test_a_folder_role_named_like_an_installed_one_is_refused_naming_both(site, tmp_path):
    installed_package(site, "proxy = acme_roles.proxy:Proxy", "proxy",
                      "from fleetfab.role import Role\n\n\nclass Proxy(Role):\n    name = 'proxy'\n")
    file = write_module_role(tmp_path / "roles", "proxy")
    path = inventory_file(tmp_path, "roles_path: [roles]\nhosts: {}\n")
    assert problems_of(path) == [f"{path}:1: roles_path[0]: role 'proxy' of {file} is also package acme-roles's "
                                 "(entry point proxy = acme_roles.proxy:Proxy): two roles of one name"]


# -- fab roles ------------------------------------------------------------------------------

def test_fab_roles_shows_an_operator_role_and_its_settings_beside_the_built_in_ones(project, monkeypatch, capsys):
    from fleetfab.cli.commands import show_roles

    monkeypatch.setenv("FLEETFAB_INVENTORY", str(inventory_file(project / "inventory", "roles_path: [../roles]\n" + HOST)))
    assert show_roles() == 0
    shown = capsys.readouterr().out
    assert "### Role `base`" in shown
    notes = shown.split("### Role `notes`", 1)[1]
    assert f"Found: {project / 'roles' / 'notes' / '__init__.py'}" in notes
    assert "| `size` | a whole number from 1 to 100 | 10 | how many notes are kept |" in notes
    assert "| `root` | a string | required | the folder the notes live in |" in notes


def test_fab_roles_without_an_inventory_shows_the_installed_roles(tmp_path, monkeypatch, capsys):
    from fleetfab.cli.commands import show_roles

    monkeypatch.setenv("FLEETFAB_INVENTORY", str(tmp_path / "none.yml"))
    assert show_roles("wireguard") == 0
    assert capsys.readouterr().out.startswith("### Role `wireguard`")


def test_fab_roles_names_a_role_that_cannot_be_loaded_and_shows_the_rest(tmp_path, monkeypatch, capsys):
    from fleetfab.cli.commands import show_roles

    file = write(tmp_path / "roles" / "motd.py", "raise RuntimeError('broken on purpose')\n")
    monkeypatch.setenv("FLEETFAB_INVENTORY", str(inventory_file(tmp_path, "roles_path: [roles]\nhosts: {}\n")))
    assert show_roles() == 1
    captured = capsys.readouterr()
    assert f"roles_path[0]: {file} cannot be imported: RuntimeError: broken on purpose" in captured.err
    assert "### Role `base`" in captured.out


def test_every_installed_role_is_fleetfabs_own_here():
    found, problems = registry.installed()
    assert problems == ()
    assert {f.origin.split(" ")[0] for f in found.values()} == {"fleetfab's"}
    assert set(found) == {"acme_ca", "base", "bind9", "certificates", "controller", "edge", "kubernetes", "mail",
                          "vmhost", "wireguard"}


# -- fleetfab's own entry points ---------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]


def declared_built_ins() -> dict[str, str]:
    import tomllib

    with open(ROOT / "pyproject.toml", "rb") as project:
        return tomllib.load(project)["project"]["entry-points"]["fleetfab.roles"]


def role_classes_of_fleetfab() -> set[type]:
    """Every class of fleetfab.roles that sets its own `name` (a procedure's variant inherits it)."""
    import importlib
    import pkgutil

    import fleetfab.roles
    from fleetfab.role import Role

    modules = [importlib.import_module(info.name) for info in pkgutil.walk_packages(fleetfab.roles.__path__, "fleetfab.roles.")]
    return {value for module in modules for value in vars(module).values()
            if isinstance(value, type) and issubclass(value, Role) and "name" in value.__dict__
            and value.__module__.startswith("fleetfab.roles.")}


def test_every_built_in_role_is_declared_as_an_entry_point():
    """A role's name set by any class of fleetfab.roles (procedures' stand-ins reuse their role's) is declared."""
    assert {cls.name for cls in role_classes_of_fleetfab()} == set(declared_built_ins())


def test_each_built_in_entry_point_names_a_role_class_of_its_own_name():
    import importlib

    for name, value in declared_built_ins().items():
        module, _, attribute = value.partition(":")
        assert getattr(importlib.import_module(module), attribute).name == name


def test_the_installed_metadata_declares_what_pyproject_declares():
    """Stale metadata (an install older than pyproject.toml) would hide a role: reinstall fleetfab."""
    found, _ = registry.installed()
    assert {name: f.origin for name, f in found.items()} == {
        name: f"fleetfab's built-in (entry point {name} = {value})" for name, value in declared_built_ins().items()}
