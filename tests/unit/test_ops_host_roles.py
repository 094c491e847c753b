"""The ops host carries the operator's own roles: in the archive fleetfab is installed from, named by
the same digest, unpacked into the virtualenv, and named by the ops host's copy of the inventory."""

from __future__ import annotations

import yaml

from fleetfab.inventory import load_inventory
from fleetfab.roles.controller.copy import ops_inventory
from fleetfab.roles.controller.software import (HostPython, FleetfabInstalled, fleetfab_digest, fleetfab_installed,
                                                installed_roles_path, role_folder_files, source_digest, source_files)
from fleetfab.roles.controller.wheelhouse import add_role_folders, local_source, runtime_pins
from tests.unit.controller_fleet import KNOWN_HOSTS as KNOWN_HOSTS_TEXT
from tests.unit.controller_fleet import OPS_FLEET
from tests.unit.roles_written import installed_package, site, write, write_notes_role  # noqa: F401

VENV = "/opt/fleetfab/venv"


def operator_fleet(tmp_path):
    """The ops fleet of the controller's specifications, with the notes role from the project's roles/ on web1."""
    write_notes_role(tmp_path / "roles")
    text = "roles_path: [../roles]\n" + OPS_FLEET.replace(
        "  web1:\n    address: 198.18.0.71\n",
        "  web1:\n    address: 198.18.0.71\n    vars: {notes: {root: /srv/notes}}\n").replace(
        "    user: deploy\n    roles: [base]", "    user: deploy\n    roles: [base, notes]")
    path = write(tmp_path / "inventory" / "hosts.yml", text)
    (path.parent / "known_hosts").write_text(KNOWN_HOSTS_TEXT)
    return load_inventory(path)


def test_the_roles_path_folders_files_are_named_by_their_place_in_the_list_not_on_this_machine(tmp_path):
    write_notes_role(tmp_path / "one" / "roles")
    write_notes_role(tmp_path / "two" / "elsewhere")
    one = role_folder_files([tmp_path / "one" / "roles"])
    two = role_folder_files([tmp_path / "two" / "elsewhere"])
    assert [name for name, _ in one] == [name for name, _ in two] == [
        "operator-roles/0/notes/__init__.py", "operator-roles/0/notes/settings.py", "operator-roles/0/notes/templates/notes.conf.j2"]


def test_caches_and_hidden_files_are_not_carried(tmp_path):
    write_notes_role(tmp_path / "roles")
    write(tmp_path / "roles" / "notes" / "__pycache__" / "settings.cpython-311.pyc", "")
    write(tmp_path / "roles" / ".git" / "HEAD", "")
    assert all("__pycache__" not in name and ".git" not in name for name, _ in role_folder_files([tmp_path / "roles"]))


def test_without_roles_path_the_digest_is_fleetfabs_own():
    assert source_digest(()) == fleetfab_digest()


def test_the_digest_names_the_operators_roles_too(tmp_path):
    write_notes_role(tmp_path / "roles")
    before = source_digest((str(tmp_path / "roles"),))
    assert before != fleetfab_digest()
    write(tmp_path / "roles" / "notes" / "templates" / "notes.conf.j2", "# changed\n")
    assert source_digest((str(tmp_path / "roles"),)) != before


def test_the_ops_hosts_fleetfab_carries_the_inventorys_role_folders(tmp_path):
    inventory = operator_fleet(tmp_path)
    installed = fleetfab_installed(inventory, VENV)
    assert installed.role_folders == (str(tmp_path / "roles"),)
    assert installed.digest == source_digest(installed.role_folders)


def test_an_empty_roles_folder_is_named_by_the_digest_too(tmp_path):
    (tmp_path / "roles").mkdir()
    assert source_digest((str(tmp_path / "roles"),)) != fleetfab_digest()


def test_every_folder_the_copy_names_exists_in_the_new_virtualenv_even_empty(monkeypatch):
    import fleetfab.roles.controller.wheelhouse as wheelhouse

    monkeypatch.setattr(wheelhouse, "archive_digest", lambda digest, python: "ef" * 32)
    resource = FleetfabInstalled(VENV, "ab" * 32, role_folders=("/srv/a", "/srv/b"))
    script = resource.fix(resource.compare("@absent\n3.11 x86_64\n"))
    release = f"/opt/fleetfab/venv-{'ab' * 8}"
    assert f"mkdir -p {release}/operator-roles/0\nmkdir -p {release}/operator-roles/1\n" in script


def test_the_install_moves_the_operators_roles_into_the_new_virtualenv(monkeypatch):
    import fleetfab.roles.controller.wheelhouse as wheelhouse

    monkeypatch.setattr(wheelhouse, "archive_digest", lambda digest, python: "ef" * 32)
    resource = FleetfabInstalled(VENV, "ab" * 32)
    script = resource.fix(resource.compare("@absent\n3.11 x86_64\n"))
    release = f"/opt/fleetfab/venv-{'ab' * 8}"
    move = f"mv {release}.wheels/operator-roles {release}/operator-roles"
    assert move in script
    assert script.index("pip install") < script.index(move) < script.index("mv -Tf")


def test_the_ops_hosts_copy_names_the_virtualenvs_role_folders(tmp_path):
    copy = yaml.safe_load(ops_inventory(operator_fleet(tmp_path)))
    assert copy["roles_path"] == ["/opt/fleetfab/venv/operator-roles/0"]


def test_an_inventory_without_roles_path_gets_a_copy_without_one(write_inventory):
    path = write_inventory(OPS_FLEET)
    (path.parent / "known_hosts").write_text(KNOWN_HOSTS_TEXT)
    assert "roles_path" not in yaml.safe_load(ops_inventory(load_inventory(path)))


def test_the_roles_as_unpacked_in_a_virtualenv_are_the_ones_the_copy_loads(tmp_path):
    inventory = operator_fleet(tmp_path)
    venv = tmp_path / "ops" / "venv"
    add_role_folders(venv, inventory.roles_path)  # as the archive holds them, moved into the virtualenv
    copy = yaml.safe_load(ops_inventory(inventory))
    copy["roles_path"] = installed_roles_path(str(venv), len(inventory.roles_path))
    path = write(tmp_path / "ops" / "inventory" / "hosts.yml", yaml.safe_dump(copy))
    (path.parent / "known_hosts").write_text("")
    loaded = load_inventory(path)
    assert loaded.found["notes"].origin == str(venv / "operator-roles" / "0" / "notes" / "__init__.py")
    assert loaded.hosts["web1"].roles == ("base", "notes")


def test_the_copy_made_again_from_itself_keeps_its_roles_path(tmp_path):
    inventory = operator_fleet(tmp_path)
    first = ops_inventory(inventory)
    path = write(tmp_path / "ops" / "hosts.yml", first)
    (path.parent / "known_hosts").write_text("")
    again = load_inventory(path, roles=inventory.found)
    assert ops_inventory(again) == first


def test_installed_roles_inside_fleetfabs_package_are_named_as_in_a_checkout(tmp_path):
    files = {"fleetfab/a.py": "", "roles/b/c.py": "", "templates/t.j2": ""}
    for name, text in files.items():
        write(tmp_path / "checkout" / name, text)
        write(tmp_path / "site" / name.replace("roles/", "fleetfab/roles/"), text)
    checkout = {name: tmp_path / "checkout" / name for name in ("fleetfab", "roles", "templates")}
    site = {"fleetfab": tmp_path / "site" / "fleetfab", "roles": tmp_path / "site" / "fleetfab" / "roles",
            "templates": tmp_path / "site" / "templates"}
    assert [n for n, _ in source_files(site)] == [n for n, _ in source_files(checkout)] == [
        "fleetfab/a.py", "roles/b/c.py", "templates/t.j2"]


# -- roles of installed packages (entry points) ----------------------------------------------

PROXY = "from fleetfab.role import Role\n\n\nclass Proxy(Role):\n    name = 'proxy'\n"


def fleet_with_proxy(tmp_path, carried: bool):
    text = "hosts:\n  web1: {address: 198.51.100.1, roles: [%s]}\n" % ("proxy" if carried else "")
    return load_inventory(write(tmp_path / "hosts.yml", text))


def test_the_package_of_an_installed_role_the_fleet_uses_is_installed_on_the_ops_host(site, tmp_path):
    installed_package(site, "proxy = acme_roles.proxy:Proxy", "proxy", PROXY)
    installed = fleetfab_installed(fleet_with_proxy(tmp_path, carried=True), VENV)
    assert installed.packages == ("acme-roles==1.0",)
    assert installed.digest == source_digest((), ("acme-roles==1.0",)) != fleetfab_digest()


def test_an_installed_role_no_host_carries_is_not_taken_along(site, tmp_path):
    installed_package(site, "proxy = acme_roles.proxy:Proxy", "proxy", PROXY)
    installed = fleetfab_installed(fleet_with_proxy(tmp_path, carried=False), VENV)
    assert (installed.packages, installed.digest) == ((), fleetfab_digest())


def test_a_role_package_and_its_own_requirements_are_pinned_at_the_versions_installed_here(site):
    import importlib.metadata as metadata

    installed_package(site, "proxy = acme_roles.proxy:Proxy", "proxy", PROXY, requires=("dnspython>=2",))
    pins = runtime_pins(HostPython("3.11", "x86_64"), ("acme-roles==1.0",))
    assert "acme-roles==1.0" in pins and f"dnspython=={metadata.version('dnspython')}" in pins


def test_a_role_package_installed_from_a_folder_is_built_from_that_folder(site, tmp_path):
    source = tmp_path / "acme-roles"
    installed_package(site, "proxy = acme_roles.proxy:Proxy", "proxy", PROXY,
                      direct_url=f'{{"url": "file://{source}", "dir_info": {{"editable": true}}}}')
    assert local_source("acme-roles") == source


def test_a_role_package_from_an_index_is_downloaded_like_fleetfabs_requirements(site):
    installed_package(site, "proxy = acme_roles.proxy:Proxy", "proxy", PROXY)
    assert local_source("acme-roles") is None
