"""The starting inventory `fleetfab init` writes: valid as it is, and commented for the next steps.

It logs in as root for the first bootstrap and already declares the admin
account fleetfab switches to afterwards, with the operator's own key, so
the switch is one line (`ssh.user`). Every step is in the README's "Your
own fleet".

Given the project's folder, it also lays out what an operator's own roles and
tasks need (README: "Write your own role"): a `roles/` folder the inventory's
`roles_path` names, a `fabfile.py` that adds tasks to fleetfab's, and the
`fabric.yaml` that makes `fab -H` take inventory hosts and groups.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml

TEMPLATE = """\
# Your fleet, as fleetfab reads it. Relative paths are resolved from this file's folder.
# Check it with `fleetfab inventory`; see the README's "Your own fleet" for each step.

ssh:
  # First bootstrap as root; then, once `{admin}` exists on every host, say `user: {admin}`.
  user: root
  identity: {identity}
  # Filled by `fleetfab -H HOSTS hostkeys.collect`, key by key, once you confirm them.
  known_hosts: known_hosts
  # A bastion every host is reached through (one of the hosts below), if you have one:
  # jump: bastion

{roles_path}groups:
  fleet:
    roles: [base]

vars:
  base:
    admins:
      # fleetfab's own login after the switch: keep your key and sudo here.
      - name: {admin}
        sudo: true
        keys:
          - {key}

hosts:{hosts}
"""


class StarterError(Exception):
    pass


def public_key(identity: str) -> str:
    """`<type> <base64> <comment>` of the identity's .pub file."""
    path = Path(f"{Path(identity).expanduser()}.pub")
    try:
        fields = path.read_text().split()
    except OSError:
        raise StarterError(f"{path}: no public key there; make one with ssh-keygen -t ed25519, or pass --identity") from None
    if len(fields) < 2:
        raise StarterError(f"{path}: not an SSH public key")
    return " ".join(fields[:3]) if len(fields) >= 3 else " ".join(fields)


def host_entries(spec: str | None) -> dict[str, str]:
    """`name=address,...` as given to --hosts."""
    found = {}
    for item in (spec or "").split(","):
        if not item.strip():
            continue
        name, sep, address = item.strip().partition("=")
        if not sep:
            raise StarterError(f"--hosts: {item.strip()!r} is not NAME=ADDRESS")
        found[name.strip()] = address.strip()
    return found


ROLES_PATH = """\
# Your own roles, beside fleetfab's: one module or package per role in each folder,
# relative to this file (README: "Write your own role").
roles_path: [{folder}]

"""

ROLES_README = """\
# Your own roles

The inventory's `roles_path` names this folder. Each role is a module `<name>.py`
or a package `<name>/__init__.py` defining one subclass of `fleetfab.role.Role`
with `name = "<name>"`; its templates go in `<name>/templates/`. A package's
modules import each other relatively (`from .settings import SETTINGS`).
`fleetfab roles` lists them beside fleetfab's own; see the README's
"Write your own role".
"""

FABFILE = '''"""This fleet's tasks: fleetfab's own (bootstrap, drift, roles, inventory ...) and yours.

Run `fab --list` in this folder. fabric.yaml, beside this file, makes `-H` take
inventory hosts and groups for every task, yours included. A task of your own
runs its steps through fleetfab's engine with fleetfab.procedure (README:
"Write your own role"):

    from invoke import task
    from fleetfab.procedure import Procedure

    @task
    def restart(c):
        # the -H hosts with role myapp, one at a time; Restarting: a Role named myapp
        proc = Procedure(c, "myapp.restart")
        for host in proc.with_role("myapp"):
            if proc.step({"myapp": Restarting()}, [host]):
                break
        proc.finish()

    ns.add_task(restart)
"""

from fleetfab.tasks import ns

__all__ = ["ns"]
'''

FABRIC_YAML = """\
# Project configuration for `fab`, read before any task runs.
tasks:
  # fleetfab's tasks (and yours) run once over the whole -H selection, inventory
  # hosts and groups, instead of once per host (fleetfab/cli/executor.py)
  executor_class: fleetfab.cli.executor.FleetExecutor
# fleetfab reaches hosts from the inventory alone and reads no ssh_config
ssh_config_path: /dev/null
"""


def render(admin: str, identity: str, key: str, hosts: dict[str, str], roles_folder: str | None = None) -> str:
    if hosts:
        listed = "".join(f"\n  {name}: {{address: {address}, groups: [fleet]}}" for name, address in hosts.items())
    else:
        listed = " {}\n  # web1: {address: 198.51.100.10, groups: [fleet]}"
    roles_path = ROLES_PATH.format(folder=yaml.safe_dump(roles_folder).splitlines()[0]) if roles_folder else ""
    return TEMPLATE.format(admin=admin, identity=yaml.safe_dump(identity).splitlines()[0].removesuffix("..."),
                           key=yaml.safe_dump(key, width=1000).splitlines()[0], hosts=listed, roles_path=roles_path)


def project_files() -> dict[str, str]:
    """A project's own roles and tasks: path in the project folder -> text."""
    return {"roles/README.md": ROLES_README, "fabfile.py": FABFILE, "fabric.yaml": FABRIC_YAML}


def write_project(folder: Path) -> list[Path]:
    """The project files that are not there yet (none is ever overwritten); the ones written."""
    written = []
    for name, text in project_files().items():
        target = folder / name
        if target.exists() or (name == "fabfile.py" and (folder / "fabfile").exists()):
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        written.append(target)
    return written


def write_starter(path: Path, admin: str, identity: str, hosts: str | None, project: Path | None = None) -> str:
    """Write the starting inventory at `path` (never over an existing file); the text written.

    With `project` (the operator's project folder), its roles folder, fabfile and
    fabric.yaml are written too when missing, and the inventory's roles_path names the folder."""
    if path.exists():
        raise StarterError(f"{path} exists: fleetfab init never overwrites an inventory")
    key = public_key(identity)
    roles_folder = None
    if project is not None:
        write_project(project)
        roles_folder = Path(os.path.relpath(project.resolve() / "roles", path.parent.resolve())).as_posix()
    text = render(admin, identity, key, host_entries(hosts), roles_folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return text
