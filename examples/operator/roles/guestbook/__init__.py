"""The guestbook role: a small Python web application and its worker, behind the fleet's edge.

An operator's own role, written as fleetfab's built-in ones are, and found
through the inventory's `roles_path`. It runs the kind of service operators
run beside the fleet's: a WSGI application in a virtualenv (python3-venv from
Debian; the application uses the standard library only), a worker that
takes jobs queued in the application's SQLite database, an init step (the
database migration) that runs once per release before the release starts,
and `/ping` for the edge's health checks.

resources  python3-venv; the `guestbook` system account (no login, no
           shell); the code in /opt/guestbook/app and the virtualenv in
           /opt/guestbook/venv, root's, so the application cannot change
           them; its settings in /etc/guestbook, readable by its group only;
           the database's folder, the account's own; the migration of this
           release; both units, enabled and running
handlers   the units restart once after their code, settings, virtualenv,
           unit files or database changed
listens    on the host's mesh address (default) or its underlay address,
           never on every address: the edge is its only client
"""

from __future__ import annotations

import json
from pathlib import Path

from fleetfab.inventory.yamlmarks import line_of
from fleetfab.problems import Problem
from fleetfab.resources import Command, Directory, File, Packages, Service
from fleetfab.role import Role, settings_problem as edge_problem
from fleetfab.schema import Choice, Field, Int, Name, Record
from fleetfab.shell import cmd, q

ROLE = "guestbook"
ACCOUNT = "guestbook"
APP_DIR = "/opt/guestbook/app"
VENV = "/opt/guestbook/venv"
CONFIG_DIR = "/etc/guestbook"
CONFIG = f"{CONFIG_DIR}/guestbook.json"
STATE_DIR = "/var/lib/guestbook"
DATABASE = f"{STATE_DIR}/guestbook.sqlite3"
#: the web application's unit and the worker's
UNITS = ("guestbook", "guestbook-worker")
RESTART = "restart guestbook"
#: the application's code, shipped as files beside this role
SOURCES = Path(__file__).resolve().parent / "app"
CODE = ("store.py", "migrate.py", "web.py", "worker.py")
#: the Python each release runs the virtualenv with: a host upgraded to the next
#: release gets a new virtualenv, since the old one points at a Python that is gone
PYTHON = {"bookworm": "3.11", "trixie": "3.13"}

SETTINGS = Record({
    "release": Field(Name(r"[0-9A-Za-z][0-9A-Za-z._+-]{0,31}", "a release name such as '1.4' (quoted in YAML)"),
                     required=True, doc="the release deployed; a new one runs the database migration once, then restarts"),
    "listen": Field(Choice(("mesh", "underlay")),
                    doc="the address the application listens on: the host's mesh address or its inventory address"),
    "port": Field(Int(1024, 65535), doc="its TCP port (the edge's backend names it)"),
    "poll_seconds": Field(Int(1, 60), doc="how long the worker sleeps when the queue is empty"),
})
DEFAULTS = {"listen": "mesh", "port": 8000, "poll_seconds": 2}


def listen_address(host, listen: str) -> str | None:
    """The address the application binds: the mesh's (None off the mesh) or the host's own."""
    if listen == "underlay":
        return host.address
    from fleetfab.roles.bind9.mesh import mesh_address

    return mesh_address(host)


def python_of(release) -> str:
    """The Debian release's python3 (`ctx.release.codename`)."""
    return PYTHON[release.codename]


def as_account(*argv: str) -> str:
    """A command run as the application's account: the database is its own, never root's."""
    return cmd("runuser", "-u", ACCOUNT, "--", *argv)


def migration(release: str) -> Command:
    """The release's init step: guarded by the release and schema the database records."""
    argv = (f"{VENV}/bin/python", f"{APP_DIR}/migrate.py", "--database", DATABASE, "--release", release)
    return Command(f"migrate the database for release {release}", run=as_account(*argv),
                   unless=as_account(*argv, "--check"), notify=RESTART)


def virtualenv(python: str) -> Command:
    """The virtualenv, made again (--clear) when it does not run this release's Python."""
    wanted = "(%s, %s)" % tuple(python.split("."))
    check = f"{VENV}/bin/python -c {q(f'import sys; sys.exit(sys.version_info[:2] != {wanted})')}"
    return Command(f"make the virtualenv (Python {python})", run=cmd("python3", "-m", "venv", "--clear", VENV),
                   unless=check, notify=RESTART)


def system_account() -> Command:
    return Command(f"make the {ACCOUNT} system account", unless=cmd("id", "-u", ACCOUNT),
                   run=cmd("useradd", "--system", "--user-group", "--home-dir", STATE_DIR, "--no-create-home",
                           "--shell", "/usr/sbin/nologin", ACCOUNT))


def settings_file(settings: dict, address: str) -> str:
    return json.dumps({"release": settings["release"], "listen": address, "port": settings["port"],
                       "database": DATABASE, "poll_seconds": settings["poll_seconds"]}, indent=2, sort_keys=True) + "\n"


class Guestbook(Role):
    name = ROLE
    after = ("base", "wireguard")
    settings = SETTINGS
    defaults = DEFAULTS

    def check(self, inventory):
        for host in inventory.with_role(ROLE):
            if host.settings(ROLE)["listen"] == "mesh" and listen_address(host, "mesh") is None:
                yield settings_problem(inventory, host, "listen",
                                       "mesh, but the host is on no mesh (no wireguard role): use underlay, or add it")
        yield from wrong_backend_ports(inventory)

    def resources(self, ctx):
        s = ctx.settings
        address = listen_address(ctx.host, s["listen"])
        yield Packages(("python3-venv",))
        yield system_account()
        yield Directory("/opt/guestbook")
        yield Directory(APP_DIR)
        for name in CODE:
            yield File(f"{APP_DIR}/{name}", (SOURCES / name).read_text(), notify=RESTART)
        yield Directory(CONFIG_DIR, group=ACCOUNT, mode="0750")
        yield File(CONFIG, settings_file(s, address), group=ACCOUNT, mode="0640", notify=RESTART)
        yield Directory(STATE_DIR, owner=ACCOUNT, group=ACCOUNT, mode="0750")
        yield virtualenv(python_of(ctx.release))
        mesh = s["listen"] == "mesh"
        for unit in UNITS:
            yield File(f"/etc/systemd/system/{unit}.service", ctx.template(f"{unit}.service.j2", mesh=mesh, **paths()),
                       notify=RESTART)
        yield migration(s["release"])
        for unit in UNITS:
            yield Service(unit)

    def handlers(self, ctx):
        return {RESTART: "systemctl daemon-reload\nsystemctl restart " + " ".join(UNITS)}

    def restarting(self) -> Role:
        """The role as `fab guestbook.restart` runs it on one host (restart.py)."""
        from .restart import Restarting

        return Restarting()


def wrong_backend_ports(inventory):
    """An edge site sending a guestbook host's traffic to a port the guestbook does not listen on."""
    for edge in inventory.with_role("edge"):
        for site, spec in edge.settings("edge").get("sites", {}).items():
            for backend in spec.get("backends", []):
                name, _, port = backend.rpartition(":")
                host = inventory.hosts.get(name)
                if host is not None and host.has_role(ROLE) and port != str(host.settings(ROLE)["port"]):
                    yield edge_problem(inventory, edge, "edge", "sites",
                                       f"site {site}: backend {backend}, but the guestbook on {name} listens on port "
                                       f"{host.settings(ROLE)['port']}")


def settings_problem(inventory, host, key: str, message: str) -> Problem:
    """A problem with a setting, at its line; a default's problem at the line of the role's settings."""
    settings = host.settings(ROLE)
    line = line_of(settings, key) or line_of(settings, "release") or host.line
    return Problem(str(inventory.path), line, f"hosts.{host.name}.vars.{ROLE}.{key}", message)


def paths() -> dict:
    return {"account": ACCOUNT, "app": APP_DIR, "venv": VENV, "config": CONFIG, "state": STATE_DIR}
