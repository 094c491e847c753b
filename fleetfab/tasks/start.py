"""`init`: the starting inventory of an operator's own fleet, and the project around it (roles/, fabfile.py, fabric.yaml)."""

import getpass
import re
from pathlib import Path

from invoke import Exit, task

from fleetfab.starter import StarterError, project_files, write_starter


@task(help={
    "path": "inventory file to write (default hosts.yml here; never overwritten)",
    "admin": "the admin account fleetfab switches to after the first bootstrap (default: your user name)",
    "identity": "private key fleetfab logs in with; its .pub is the admin's key (default ~/.ssh/id_ed25519)",
    "hosts": "hosts to start with, NAME=ADDRESS,... (default: none, an example in a comment)",
    "project": "also write, here, what your own roles and tasks need when missing: roles/, fabfile.py, fabric.yaml (default: yes)",
})
def init(c, path="hosts.yml", admin=None, identity="~/.ssh/id_ed25519", hosts=None, project=True):
    """Write a starting inventory that validates as it is, and a project folder for your own roles and tasks."""
    here = Path.cwd()
    before = {name for name in project_files() if (here / name).exists()}
    try:
        write_starter(Path(path), admin or default_admin(), identity, hosts, project=here if project else None)
    except StarterError as exc:
        raise Exit(f"init: {exc}", code=1)
    made = [name for name in project_files() if project and name not in before and (here / name).exists()]
    print(f"{path} written" + (f"; and {', '.join(made)}" if made else "") + f"; next: FLEETFAB_INVENTORY={path} fleetfab inventory")


def default_admin() -> str:
    """The operator's own user name, unless it is root or not a name the base role takes."""
    name = getpass.getuser()
    return name if name != "root" and re.fullmatch(r"[a-z_][a-z0-9_-]*", name) else "admin"
