"""`fab guestbook.restart`'s step, beside the role: the application and its worker restarted on
one host, then waited for until it answers /ping again (the task runs it one host at a time)."""

from __future__ import annotations

from dataclasses import dataclass

from fleetfab.resources import Change, Resource
from fleetfab.shell import q

from . import CONFIG, UNITS, VENV, Guestbook

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
    """Both units restarted and /ping answering again: a step that always has work."""

    units: tuple[str, ...] = UNITS

    @property
    def key(self) -> str:
        return f"restart {' '.join(self.units)}"

    def probe(self) -> str:
        return f"systemctl is-active {' '.join(map(q, self.units))} || true"

    def compare(self, output: str) -> Change:
        now = ", ".join(f"{unit} {state}" for unit, state in zip(self.units, output.split())) or "state unknown"
        return self.change("restart", f"restart ({now}), then wait for /ping")

    def fix(self, change: Change) -> str:
        return f"set -e\nsystemctl restart {' '.join(map(q, self.units))}\n{q(VENV + '/bin/python')} -c {q(PING)}\n"


class Restarting(Guestbook):
    """The guestbook role during a restart: it states the restart and nothing else."""

    def resources(self, ctx):
        yield Restarted()

    def handlers(self, ctx):
        return {}
