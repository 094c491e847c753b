"""Reading a host: the probes of many resources in one SSH round trip.

Each probe's output is framed by a line carrying a random boundary, which no
file content or command output can forge.
"""

from __future__ import annotations

import re
import secrets


def new_boundary() -> str:
    return "FLEETFAB-" + secrets.token_hex(12)


def batch_script(probes: list[str], boundary: str) -> str:
    """One script for all probes. They share its shell (a subshell each would
    cost a process per probe): a probe must not `exit` or change directory,
    and one that does is caught, since the answer then ends too early."""
    parts = []
    for index, probe in enumerate(probes):
        parts.append(f"printf '\\n%s %d\\n' {boundary} {index}\n{{ {probe}\n}} 2>/dev/null </dev/null")
    parts.append(f"printf '\\n%s end\\n' {boundary}")
    return "\n".join(parts) + "\n"


class ProbeOutputError(Exception):
    pass


def split_output(stdout: str, boundary: str, count: int) -> list[str]:
    """The output of each probe, in order; incomplete output is an error."""
    pieces = re.split(rf"\n{re.escape(boundary)} (\d+|end)\n", stdout)
    sections = dict(zip(pieces[1::2], pieces[2::2]))
    if "end" not in sections or any(str(i) not in sections for i in range(count)):
        raise ProbeOutputError("the host's answer to the probes was cut short")
    return [sections[str(i)] for i in range(count)]
