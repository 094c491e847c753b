"""Health checks: does a host's service answer, looked at from the host itself?

A role states its checks with its `health(ctx)` hook (fleetfab.role.Role), as
read-only resources: a probe (a name server asked for its zones, a greeting
read on port 25) and a judgement of its answer. The engine runs them like
drift, in the host's one batched read and under its lock: a check that fails
is a change of the kind `unhealthy`, which nothing ever applies. After an
upgrade, a host is healthy when its drift is clean and every check passes.

The answers are the host's, so checks judge them strictly and say what they
expected, never echoing more than a short, escaped part of what came back.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from fleetfab.resources.base import Change, Resource
from fleetfab.shell import q
from fleetfab.text import one_line

#: the action of a failed check: reported, never applied
UNHEALTHY = "unhealthy"
#: how much of an answer a failed check quotes
QUOTED = 120


@dataclass(frozen=True)
class HealthCheck(Resource):
    """One read-only check; subclasses say `what`, `probe()` and `problem(output)`."""

    what: str

    @property
    def key(self) -> str:
        return f"health: {self.what}"

    def problem(self, output: str) -> str | None:
        """None when the answer shows the service healthy, else what is wrong."""
        raise NotImplementedError

    def compare(self, output: str) -> Change | None:
        found = self.problem(output)
        return None if found is None else self.change(UNHEALTHY, found)

    def fix(self, change: Change) -> str:
        return f"echo {q(change.summary)} >&2\nexit 3\n"


def quoted(output: str) -> str:
    """A short, escaped part of a host's answer, for a failed check's message."""
    text = one_line(output.strip())
    return repr(text[:QUOTED] + ("..." if len(text) > QUOTED else "")) if text else "nothing"


@dataclass(frozen=True)
class ExpectLine(HealthCheck):
    """A command whose answer must hold a line starting with `expect` (a status word, a protocol greeting)."""

    command: str = ""
    expect: str = ""
    expected: str = ""

    def probe(self) -> str:
        return f"( {self.command} ) 2>&1 | head -c 4096"

    def problem(self, output: str) -> str | None:
        if any(line.strip().startswith(self.expect) for line in output.splitlines()):
            return None
        return f"expected {self.expected or repr(self.expect)}, got {quoted(output)}"


def is_health_change(change) -> bool:
    return change.action == UNHEALTHY


def checking(role, drift: bool = True):
    """The role as a health run sees it: its health checks (after its own state when `drift`) as its
    resources; prepare, exports and settings unchanged, so the run reads the host as drift does."""
    checked = copy.copy(role)

    def resources(ctx):
        own = list(role.resources(ctx)) if drift else []
        return own + list(role.health(ctx))

    checked.resources = resources
    return checked


def checking_roles(roles: dict, drift: bool = True) -> dict:
    return {name: checking(role, drift) for name, role in roles.items()}
