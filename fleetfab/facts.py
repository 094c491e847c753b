"""Reading a host: the probes of many resources in one SSH round trip.

Each probe's output is framed by a line carrying a random boundary, which no
file content or command output can forge.

Starting a process is most of what a probe costs a host, so resources of one
kind may share a command: every file's state from one `tar`, every unit's
from one `systemctl show`. A shared probe answers each resource exactly as
the resource's own `probe()` would, so `compare` never knows the difference.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Protocol

from fleetfab.shell import q

#: the label of a batch's last section, which says the answer is complete
END = "end"


class SharedKind(Protocol):
    """One command that probes many resources of a kind at once."""

    #: the section's name in the batch (a-z)
    name: str

    def script(self, keys: list[str]) -> str:
        """The command for every key; its output goes to `answers`."""

    def answers(self, output: str, keys: list[str]) -> dict[str, str]:
        """Each key's answer, as the resource's own probe would print it."""


@dataclass(frozen=True)
class Shared:
    """A probe answered by its kind's one command, for the resource at `key`."""

    kind: SharedKind
    key: str


Probe = str | Shared


def probe_of(resource) -> Probe:
    """The cheapest probe of a resource: its share of a kind's command, or its own."""
    return resource.shared_probe() or resource.probe()


def new_boundary() -> str:
    return "FLEETFAB-" + secrets.token_hex(12)


def end_line(boundary: str) -> str:
    """The line a batch prints last: its answer is complete once this line is in."""
    return f"{boundary} {END}"


def _section(boundary: str, label: str | int, script: str) -> str:
    return f"printf '\\n%s %s\\n' {boundary} {label}\n{{ {script}\n}} 2>/dev/null </dev/null"


def shared_keys(probes: list[Probe]) -> dict[SharedKind, list[str]]:
    """Each kind's keys, once each, in the order they were asked for."""
    groups: dict[SharedKind, list[str]] = {}
    for probe in probes:
        if isinstance(probe, Shared) and probe.key not in groups.setdefault(probe.kind, []):
            groups[probe.kind].append(probe.key)
    return groups


def batch_sections(probes: list[Probe]) -> list[tuple[str, str]]:
    """(label, script) of each section of a batch: each kind's shared command, then each own probe.

    The ops host's read side asks for these by their scripts' digests (fleetfab.readside)."""
    sections = [(kind.name, kind.script(keys)) for kind, keys in shared_keys(probes).items()]
    return sections + [(str(index), probe) for index, probe in enumerate(probes) if isinstance(probe, str)]


def batch_script(probes: list[Probe], boundary: str) -> str:
    """One script for all probes. They share its shell (a subshell each would
    cost a process per probe): a probe must not `exit` or change directory,
    and one that does is caught, since the answer then ends too early."""
    parts = [_section(boundary, label, script) for label, script in batch_sections(probes)]
    parts.append(f"printf '\\n%s\\n' {q(end_line(boundary))}")
    return "\n".join(parts) + "\n"


class ProbeOutputError(Exception):
    pass


def sections_of(stdout: str, boundary: str) -> dict[str, str]:
    """Each section's output by its label (an index, a kind's name, or `end`).

    A plain split: the boundary is new for every read, so a pattern built
    from it would be compiled anew every time.
    """
    sections = {}
    for piece in stdout.split(f"\n{boundary} ")[1:]:
        label, newline, output = piece.partition("\n")
        if newline:
            sections[label] = output
    return sections


def split_output(stdout: str, boundary: str, probes: list[Probe]) -> list[str]:
    """The output of each probe, in order; incomplete output is an error."""
    sections = sections_of(stdout, boundary)
    groups = shared_keys(probes)
    if END not in sections or any(kind.name not in sections for kind in groups):
        raise ProbeOutputError("the host's answer to the probes was cut short")
    answers = {kind: kind.answers(sections[kind.name], keys) for kind, keys in groups.items()}
    outputs = []
    for index, probe in enumerate(probes):
        if isinstance(probe, Shared):
            outputs.append(answers[probe.kind][probe.key])
        elif str(index) in sections:
            outputs.append(sections[str(index)])
        else:
            raise ProbeOutputError("the host's answer to the probes was cut short")
    return outputs
