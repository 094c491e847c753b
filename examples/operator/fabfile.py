"""The operator's tasks: fleetfab's own (bootstrap, drift, roles, inventory ...) and one of ours.

`fab --list` shows them together; `-H` takes inventory hosts and groups for
every one of them (fabric.yaml, beside this file, says so).
"""

from __future__ import annotations

from dataclasses import dataclass

from invoke import Collection, Exit, task

from fleetfab.resources import Change, Resource
from fleetfab.role import Role
from fleetfab.shell import q
from fleetfab.tasks import ns

ROLE = "guestbook"
UNITS = ("guestbook", "guestbook-worker")
CONFIG = "/etc/guestbook/guestbook.json"
PYTHON = "/opt/guestbook/venv/bin/python"
#: seconds a restarted application has to answer /ping before the restart counts as failed
ANSWER_WITHIN = 30

#: run on the host after the restart: /ping on the address and port the application was given
PING = f"""
import json, sys, time, urllib.request
c = json.load(open({CONFIG!r}))
host = "[%s]" % c["listen"] if ":" in c["listen"] else c["listen"]
deadline = time.monotonic() + {ANSWER_WITHIN}
while True:
    try:
        with urllib.request.urlopen("http://%s:%d/ping" % (host, c["port"]), timeout=2) as r:
            sys.exit(0 if r.status == 200 else 1)
    except OSError as e:
        if time.monotonic() > deadline:
            sys.exit("the guestbook did not answer /ping within {ANSWER_WITHIN} s: %s" % e)
        time.sleep(1)
"""


@dataclass(frozen=True)
class Restarted(Resource):
    """The application and its worker restarted, and answering /ping again: a step that always has work."""

    units: tuple[str, ...] = UNITS

    @property
    def key(self) -> str:
        return f"restart {' '.join(self.units)}"

    def probe(self) -> str:
        return f"systemctl is-active {' '.join(map(q, self.units))} || true"

    def compare(self, output: str) -> Change:
        states = output.split()
        now = ", ".join(f"{u} {s}" for u, s in zip(self.units, states)) or "state unknown"
        return self.change("restart", f"restart ({now}), then wait for /ping")

    def fix(self, change: Change) -> str:
        return f"set -e\nsystemctl restart {' '.join(map(q, self.units))}\n{q(PYTHON)} -c {q(PING)}\n"


class Restarting(Role):
    """The guestbook role during a restart: it states the restart and nothing else."""

    name = ROLE

    def resources(self, ctx):
        yield Restarted()


@task(help={"json": "also write the report of every host's restart as JSON to this path"})
def restart(c, json=None):
    """Restart the guestbook on the -H hosts one at a time; each must answer /ping before the next restarts."""
    from fleetfab.procedure import Procedure

    proc = Procedure(c, "guestbook.restart", json_path=json)
    hosts = proc.with_role(ROLE)
    if not hosts:
        proc.err.print(f"no host of the -H selection carries the {ROLE} role; nothing was contacted.")
        raise Exit(code=1)
    for done, host in enumerate(hosts):
        if proc.step({ROLE: Restarting()}, [host], title=f"guestbook.restart {host.name}"):
            left = [h.name for h in hosts[done + 1:]]
            if left:
                proc.err.print(f"stopped after {host.name} failed; not restarted: {', '.join(left)}")
            break
    proc.finish()


# `fab guestbook.restart`, beside fleetfab's own collections (wireguard.rotate, mail.*)
ns.add_collection(Collection("guestbook", restart))
