"""The example operator's own role (examples/operator/roles/guestbook): its desired state from the
example's inventory alone, rendered for each Debian release, and its settings' checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetfab.inventory import load_inventory
from fleetfab.release import Release
from fleetfab.role import RoleContext

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "operator"
ROLES = EXAMPLE / "roles"
BOOKWORM = Release("debian", "12", "bookworm", {})
TRIXIE = Release("debian", "13", "trixie", {})
MIGRATION = "command migrate the database for release 1.0"
CONFIG = "file /etc/guestbook/guestbook.json"


@pytest.fixture(scope="module")
def inventory():
    return load_inventory(EXAMPLE / "inventory" / "hosts.yml")


@pytest.fixture(scope="module")
def role(inventory):
    return inventory.roles["guestbook"]


def resources(inventory, role, release=TRIXIE, host="worker1") -> list:
    return list(role.resources(RoleContext(inventory, inventory.hosts[host], "guestbook", release=release)))


def by_key(inventory, role, release=TRIXIE) -> dict:
    return {r.key: r for r in resources(inventory, role, release)}


def settings_file(inventory, role) -> dict:
    import json

    return json.loads(by_key(inventory, role)[CONFIG].content)


def test_the_example_inventory_finds_its_own_role_in_its_roles_path(inventory, role):
    import inspect

    assert Path(inspect.getfile(type(role))) == ROLES / "guestbook" / "__init__.py"
    assert [h.name for h in inventory.with_role("guestbook")] == ["worker1"]


def test_the_application_listens_where_the_edge_sends_its_requests(inventory, role):
    from fleetfab.roles.edge import sites_of

    edge = RoleContext(inventory, inventory.hosts["edge1"], "edge")
    [site] = sites_of(edge)
    config = settings_file(inventory, role)
    assert site["servers"] == [("worker1", f"{config['listen']}:{config['port']}")]


def test_the_application_listens_on_the_mesh_address_not_the_hosts_own(inventory, role):
    from fleetfab.roles.bind9.mesh import mesh_address

    listen = settings_file(inventory, role)["listen"]
    assert listen == mesh_address(inventory.hosts["worker1"]) and listen != inventory.hosts["worker1"].address


@pytest.mark.parametrize("release, python", [(BOOKWORM, "3.11"), (TRIXIE, "3.13")])
def test_the_virtualenv_runs_the_python_of_the_hosts_release(inventory, role, release, python):
    venv = by_key(inventory, role, release)[f"command make the virtualenv (Python {python})"]
    assert f"!= ({python.replace('.', ', ')})" in venv.unless and "--clear" in venv.run


def test_the_migration_runs_as_the_application_and_only_when_the_database_records_another_release(inventory, role):
    migration = by_key(inventory, role)[MIGRATION]
    assert migration.run.startswith("runuser -u guestbook -- ") and "--release 1.0" in migration.run
    assert migration.unless == migration.run + " --check"


def test_the_migration_runs_after_the_code_and_virtualenv_and_before_the_units_start(inventory, role):
    keys = [r.key for r in resources(inventory, role)]
    migration = keys.index(MIGRATION)
    assert keys.index("file /opt/guestbook/app/migrate.py") < migration
    assert keys.index("command make the virtualenv (Python 3.13)") < migration
    assert migration < keys.index("service guestbook") and migration < keys.index("service guestbook-worker")


def test_whatever_the_application_runs_restarts_it_when_it_changes(inventory, role):
    restarting = {r.key for r in resources(inventory, role) if "restart guestbook" in r.notify}
    assert {"file /opt/guestbook/app/web.py", "file /opt/guestbook/app/worker.py", CONFIG, MIGRATION,
            "command make the virtualenv (Python 3.13)", "file /etc/systemd/system/guestbook.service",
            "file /etc/systemd/system/guestbook-worker.service"} <= restarting
    handler = role.handlers(RoleContext(inventory, inventory.hosts["worker1"], "guestbook"))["restart guestbook"]
    assert handler.splitlines() == ["systemctl daemon-reload", "systemctl restart guestbook guestbook-worker"]


def test_the_application_cannot_change_its_code_or_its_settings(inventory, role):
    from fleetfab.resources import Directory, File

    found = resources(inventory, role)
    code = [r for r in found if isinstance(r, File) and r.path.startswith("/opt/guestbook/")]
    assert code and all((r.owner, r.group, r.mode) == ("root", "root", "0644") for r in code)
    config = by_key(inventory, role)[CONFIG]
    assert (config.owner, config.group, config.mode) == ("root", "guestbook", "0640")
    writable = [r.path for r in found if isinstance(r, Directory) and r.owner == "guestbook"]
    assert writable == ["/var/lib/guestbook"]


def test_both_units_run_as_the_account_with_only_the_database_writable(inventory, role):
    for unit in ("guestbook", "guestbook-worker"):
        text = by_key(inventory, role)[f"file /etc/systemd/system/{unit}.service"].content
        assert {"User=guestbook", "ProtectSystem=strict", "ReadWritePaths=/var/lib/guestbook",
                "NoNewPrivileges=yes"} <= set(text.splitlines())


def test_the_web_unit_waits_for_the_mesh_it_listens_on(inventory, role):
    text = by_key(inventory, role)["file /etc/systemd/system/guestbook.service"].content
    assert "After=network-online.target wg-quick@wg0.service" in text.splitlines()


def test_the_system_account_has_no_login(inventory, role):
    account = by_key(inventory, role)["command make the guestbook system account"]
    assert "--system" in account.run and "--shell /usr/sbin/nologin" in account.run and account.unless == "id -u guestbook"


# -- the settings, checked with file:line ------------------------------------------------------------

def inventory_text(guestbook: str, wireguard: bool = True) -> str:
    mesh = "    roles: [wireguard]\n    vars: {wireguard: {network: 100.64.0.0/24}}\n" if wireguard else "    roles: []\n"
    return (f"roles_path: [{ROLES}]\n"
            "groups:\n"
            "  apps:\n"
            f"{mesh}"
            "hosts:\n"
            "  app1:\n"
            "    address: 198.18.0.21\n"
            "    groups: [apps]\n"
            "    roles: [guestbook]\n"
            "    vars:\n"
            "      guestbook:\n"
            f"{guestbook}")


def line_of(text: str, fragment: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if fragment in line)


def test_an_unquoted_release_number_is_refused_with_its_line(problems):
    text = inventory_text("        release: 1.0\n")
    assert problems(text) == [f"{line_of(text, 'release: 1.0')}: hosts.app1.vars.guestbook.release: "
                              "expected a release name such as '1.4' (quoted in YAML), got 1.0"]


def test_the_release_is_required(problems):
    text = inventory_text("        port: 8000\n")
    assert problems(text) == [f"{line_of(text, 'app1:')}: hosts.app1.vars.guestbook.release: required, and no layer sets it"]


def test_listening_on_the_mesh_from_a_host_off_the_mesh_is_refused_at_the_roles_settings(problems):
    text = inventory_text('        release: "1.0"\n', wireguard=False)
    assert problems(text) == [f"{line_of(text, 'release:')}: hosts.app1.vars.guestbook.listen: mesh, but the host is "
                              "on no mesh (no wireguard role): use underlay, or add it"]


def test_a_port_below_1024_is_refused(problems):
    text = inventory_text('        release: "1.0"\n        port: 80\n')
    assert problems(text) == [f"{line_of(text, 'port: 80')}: hosts.app1.vars.guestbook.port: "
                              "expected a whole number from 1024 to 65535, got 80"]


def test_an_edge_site_sending_to_another_port_than_the_guestbooks_is_refused(problems):
    text = (EXAMPLE / "inventory" / "hosts.yml").read_text().replace("../roles", str(ROLES))
    text = text.replace('backends: ["worker1:8000"]', 'backends: ["worker1:8080"]')
    assert problems(text) == [f"{line_of(text, 'sites:')}: hosts.edge1.vars.edge.sites: site guestbook: backend "
                              "worker1:8080, but the guestbook on worker1 listens on port 8000"]
