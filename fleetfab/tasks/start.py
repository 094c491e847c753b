"""`init`: the starting inventory of an operator's own fleet."""

import getpass
import re
from pathlib import Path

from invoke import Exit, task

from fleetfab.starter import StarterError, write_starter


@task(help={
    "path": "inventory file to write (default hosts.yml here; never overwritten)",
    "admin": "the admin account fleetfab switches to after the first bootstrap (default: your user name)",
    "identity": "private key fleetfab logs in with; its .pub is the admin's key (default ~/.ssh/id_ed25519)",
    "hosts": "hosts to start with, NAME=ADDRESS,... (default: none, an example in a comment)",
})
def init(c, path="hosts.yml", admin=None, identity="~/.ssh/id_ed25519", hosts=None):
    """Write a starting inventory that validates as it is: root for the first bootstrap, your admin account next."""
    try:
        write_starter(Path(path), admin or default_admin(), identity, hosts)
    except StarterError as exc:
        raise Exit(f"init: {exc}", code=1)
    print(f"{path} written; next: FLEETFAB_INVENTORY={path} fleetfab inventory")


def default_admin() -> str:
    """The operator's own user name, unless it is root or not a name the base role takes."""
    name = getpass.getuser()
    return name if name != "root" and re.fullmatch(r"[a-z_][a-z0-9_-]*", name) else "admin"
