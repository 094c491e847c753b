"""The mesh's health, from the host itself: a fresh handshake with every peer it can reach.

One UDP datagram to each peer's mesh address (port 9, discard) makes
WireGuard start a handshake where its session is old; a few seconds later
`wg show` must list, for each peer, a handshake younger than FRESH seconds.
A peer both this host and it behind NAT can never reach is left out. The
interface's own line of the dump (its private key) is dropped on the host.
"""

from __future__ import annotations

from dataclasses import dataclass

from fleetfab.health import HealthCheck
from fleetfab.shell import q
from fleetfab.roles.wireguard.mesh import member, members, reachable
from fleetfab.roles.wireguard.settings import INTERFACE

#: seconds since the last handshake for a peer to count as up
FRESH = 180
_NUDGE = 'use IO::Socket::INET; for (@ARGV) { my $s = IO::Socket::INET->new(PeerAddr => $_, PeerPort => 9, Proto => "udp") or next; $s->send("x") }'


@dataclass(frozen=True)
class FreshHandshakes(HealthCheck):
    #: (peer name, its mesh address) for every peer this host must reach
    peers: tuple[tuple[str, str], ...] = ()

    def probe(self) -> str:
        addresses = " ".join(q(address) for _, address in self.peers)
        return (f"( perl -e {q(_NUDGE)} {addresses} 2>/dev/null; sleep 4; echo \"@now $(date +%s)\"; "
                f"wg show {INTERFACE} dump 2>/dev/null | tail -n +2 | head -c 65536 )")

    def ages(self, output: str) -> tuple[dict[str, int], str | None]:
        """Seconds since each peer's last handshake (by mesh address), or why the answer was not read."""
        lines = output.splitlines()
        if not lines or not lines[0].startswith("@now ") or not lines[0][5:].strip().isdigit():
            return {}, "the interface's peers could not be read"
        now = int(lines[0][5:])
        seen: dict[str, int] = {}
        # the interface's own line (its private key) never leaves the host: the probe drops it
        for line in lines[1:]:
            fields = line.split("\t")
            if len(fields) != 8 or not fields[4].isdigit():
                return {}, f"wg show {INTERFACE} dump answered a line that is not a peer's"
            for allowed in fields[3].split(","):
                seen[allowed.split("/")[0]] = now - int(fields[4]) if int(fields[4]) else -1
        return seen, None

    def problem(self, output: str) -> str | None:
        seen, why = self.ages(output)
        if why:
            return why
        stale = []
        for name, address in self.peers:
            age = seen.get(address)
            if age is None:
                stale.append(f"{name} is not a peer")
            elif age < 0:
                stale.append(f"{name}: no handshake yet")
            elif age > FRESH:
                stale.append(f"{name}: last handshake {age} s ago")
        return f"no fresh handshake with {', '.join(stale)}" if stale else None


def checks(ctx) -> list[HealthCheck]:
    me = member(ctx.host)
    peers = tuple((m.name, str(m.address)) for m in members(ctx.inventory) if m.name != me.name and reachable(me, m))
    return [FreshHandshakes(f"fresh handshakes with {len(peers)} peers", peers)] if peers else []
