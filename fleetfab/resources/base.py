"""The resource model: a probe that reads state, a comparison, a fix.

A probe is a shell snippet whose output alone decides whether the resource is
as desired. The engine runs the probes of a whole role in one SSH round trip,
so a resource must never need a second look at the host to decide.
"""

from __future__ import annotations

from dataclasses import dataclass, field


#: the action of a difference a bootstrap must not fix (a guest the inventory
#: no longer declares): drift reports it, a bootstrap only notes it
REPORT = "report"


@dataclass(frozen=True)
class Change:
    """One difference between a host and its desired state."""

    resource: str
    action: str
    summary: str
    diff: str = ""
    #: what the fix needs to know from the probe (never shown)
    data: tuple = ()

    def as_dict(self) -> dict:
        return {"resource": self.resource, "action": self.action, "summary": self.summary, "diff": self.diff}


@dataclass(frozen=True)
class Resource:
    """Base of all resources; subclasses are frozen dataclasses."""

    #: handler names this resource notifies when it changes (a name or a tuple)
    notify: tuple[str, ...] = field(default=(), kw_only=True)

    def __post_init__(self):
        object.__setattr__(self, "notify", notify_tuple(self.notify))

    @property
    def key(self) -> str:
        raise NotImplementedError

    def probe(self) -> str:
        """A shell snippet whose output alone tells the resource's state."""
        raise NotImplementedError

    def shared_probe(self):
        """The same answer as `probe()`, from a command shared with every
        resource of its kind in the batch (a `fleetfab.facts.Shared`), or None."""
        return None

    def compare(self, output: str) -> Change | None:
        """None when the probe output shows the desired state."""
        raise NotImplementedError

    def fix(self, change: Change) -> str:
        """A shell script that makes the host match; it fails loudly."""
        raise NotImplementedError

    def uploads(self, change: Change) -> tuple:
        """Local files (`fleetfab.resources.copied.Upload`) the engine sends before `fix` runs."""
        return ()

    def secrets(self) -> tuple[str, ...]:
        """Values this resource carries that must never be printed."""
        return ()

    def note(self, output: str) -> str | None:
        """What the probe showed that is worth telling but is no change
        (a container host that cannot load kernel modules), or None."""
        return None

    def change(self, action: str, summary: str, diff: str = "", data: tuple = ()) -> Change:
        return Change(self.key, action, summary, diff, data)


def lines(output: str) -> list[str]:
    return output.splitlines()


def notify_tuple(value) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)
