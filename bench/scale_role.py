"""The scale benchmark's role: a dozen small resources inside one scratch folder a host.

Every endpoint of the scale bench is this very machine seen through its own
sshd, so the role must never touch anything outside the folder it is given
(`scratch.root`). It still uses each kind of resource a real role uses on
files (directories, files with a validator and a handler, a secret file,
lines, guarded commands, an absent file), and reads no other host's values,
so a converged host costs one read.
"""

from __future__ import annotations

from fleetfab.resources import Absent, Command, Directory, File, Line
from fleetfab.role import Role
from fleetfab.schema import Field, Record, Str

ROLE = "scratch"
#: about 2 KiB, the size of a small configuration file
PAYLOAD = "".join(f"option_{i:03d} = value {i}\n" for i in range(100))


def host_content(host: str) -> str:
    return f"# Written by the fleetfab scale benchmark.\nhost = {host}\n"


class ScratchRole(Role):
    name = ROLE
    settings = Record({"root": Field(Str(), required=True)})

    def resources(self, ctx):
        root = ctx.settings["root"]
        yield Directory(root, mode="0755")
        yield Directory(f"{root}/etc", mode="0750")
        yield Directory(f"{root}/data", mode="0755")
        yield File(f"{root}/etc/app.conf", "greeting = hello\n", validate="grep -q '^greeting = ' %s", notify="reload app")
        yield File(f"{root}/etc/host.conf", host_content(ctx.host.name))
        yield File(f"{root}/etc/token", "scale-bench-token\n", mode="0600", secret=True)
        yield File(f"{root}/data/payload.txt", PAYLOAD)
        yield Line(f"{root}/etc/list.conf", "enabled = yes", match="^enabled")
        yield Line(f"{root}/etc/limits.conf", "max_clients = 100", match="^max_clients")
        yield Command("marker", run=f"touch {root}/marker", creates=f"{root}/marker")
        yield Command("stamp", run=f"date -u +%FT%TZ > {root}/data/stamp", creates=f"{root}/data/stamp")
        yield Absent(f"{root}/etc/obsolete.conf")

    def handlers(self, ctx):
        return {"reload app": f"echo reloaded >> {ctx.settings['root']}/handler.log"}


def roles() -> dict:
    """The roles of a scale run: the scratch role only."""
    return {ROLE: ScratchRole()}


#: resources a host has (the drift's 'unchanged' count per host)
RESOURCES_PER_HOST = 12
