"""The name server's health, from the host itself: it answers every zone it serves with authority.

Each zone's SOA is asked of the server on 127.0.0.1, without recursion: the
answer must be NOERROR with the authoritative-answer flag and hold the SOA.
A secondary that lost its zone, or a server that did not start, fails here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fleetfab.health import HealthCheck, quoted
from fleetfab.shell import q
from fleetfab.roles.bind9.fleet import zones_of


@dataclass(frozen=True)
class AnswersZone(HealthCheck):
    zone: str = ""

    def probe(self) -> str:
        return f"dig +norec +time=3 +tries=2 @127.0.0.1 {q(self.zone)} SOA 2>&1 | head -c 8192"

    def problem(self, output: str) -> str | None:
        header = re.search(r"status: ([A-Z]+)", output)
        flags = re.search(r";; flags: ([a-z ]+);", output)
        if header is None or flags is None:
            return f"no DNS answer for {self.zone}: {quoted(output)}"
        if header.group(1) != "NOERROR":
            return f"{self.zone}: {header.group(1)}"
        if "aa" not in flags.group(1).split():
            return f"{self.zone}: answered without authority"
        if not re.search(rf"^{re.escape(self.zone.rstrip('.'))}\.\s+\d+\s+IN\s+SOA\s", output, re.MULTILINE):
            return f"{self.zone}: no SOA in the answer"
        return None


def checks(ctx) -> list[HealthCheck]:
    return [AnswersZone(f"answers {z.name} (SOA, authoritative)", z.name) for z in zones_of(ctx.inventory, ctx.host)]
