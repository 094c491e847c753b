"""A role that works only inside a folder the test owns.

The throwaway sshd logs in to this very machine, so the integration tests
converge this role instead of `base`, which would rewrite the machine's own
/etc. It uses every resource type that is safe to use on the test machine.
"""

from fleetfab.resources import Absent, Command, Copied, Directory, File, Line, Packages
from fleetfab.role import Export, Role
from fleetfab.schema import Field, Record, Str


class Early(Role):
    """A role applied before the sandbox, needing nothing from other hosts."""

    name = "early"
    settings = Record({"root": Field(Str(), required=True)})

    def resources(self, ctx):
        yield File(f"{ctx.settings['root']}-early", "early\n")


class Sandbox(Role):
    name = "sandbox"
    after = ("early",)
    settings = Record({
        "root": Field(Str(), required=True),
        "greeting": Field(Str()),
        "token": Field(Str()),
        "payload": Field(Str(), doc="a local file copied to the sandbox as payload.bin"),
    })
    defaults = {"greeting": "hello", "token": "s3cr3t-t0ken-value"}

    def prepare(self, ctx):
        root = ctx.settings["root"]
        yield Command("make identity", run=f"mkdir -p {root} && echo id-$(hostname)-{ctx.host.name} > {root}/identity", creates=f"{root}/identity")

    def exports(self, ctx):
        return {"identity": Export(f"cat {ctx.settings['root']}/identity")}

    def resources(self, ctx):
        s = ctx.settings
        root = s["root"]
        peers = sorted(ctx.export(h.name, "identity") for h in ctx.members())
        yield Packages(("bash",))
        yield Directory(f"{root}/etc", mode="0750")
        yield File(f"{root}/etc/app.conf", f"greeting = {s['greeting']}\n", validate="grep -q '^greeting = ' %s", notify="reload app")
        yield File(f"{root}/etc/peers", "".join(f"{p}\n" for p in peers))
        yield File(f"{root}/etc/token", s["token"] + "\n", mode="0600", secret=True)
        yield Line(f"{root}/etc/list.conf", "enabled = yes", match="^enabled")
        yield Command("marker", run=f"touch {root}/marker", creates=f"{root}/marker")
        yield Absent(f"{root}/etc/obsolete.conf")
        if s.get("payload"):
            yield Copied(f"{root}/payload.bin", s["payload"], mode="0640")

    def handlers(self, ctx):
        return {"reload app": f"echo reloaded >> {ctx.settings['root']}/handler.log"}
