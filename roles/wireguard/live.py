"""The running interface compared with the mesh: what a file on disk cannot show.

wg0.conf can be exactly right while the tunnel is not: a peer added with
`wg set` by hand, an interface deleted, a key rotated on disk but not loaded.
These resources read the live interface and notify the handler that brings
it back to wg0.conf. Their own fix does nothing: the work is the handler's,
which runs once, after wg0.conf is written, however many things noticed.

`wg show wg0 dump` starts with the interface's private key. The probes cut
that line (and the preshared-key column) off on the host, so neither ever
crosses the SSH connection.
"""

from __future__ import annotations

from dataclasses import dataclass

from fleetfab.resources.base import Change, Resource, lines
from fleetfab.shell import q
from fleetfab.roles.wireguard.keys import public_key_command
from fleetfab.roles.wireguard.mesh import Peer

RESTART = "restart wg0"
SYNC = "sync wg0"

NO_OP = ": the handler this change notifies does the work\n"


def public_dump(interface: str) -> str:
    """Peers of `wg show dump`, cut on the host to their public fields.

    Line 1 (the interface: private key first) is dropped, and of each peer
    row only the public key, endpoint, allowed IPs and keepalive are kept:
    never the preshared key (column 2).
    """
    return f"wg show {q(interface)} dump | tail -n +2 | cut -f1,3,4,8"


def _active(service: str, interface: str) -> str:
    return f"systemctl is-active -q {q(service)} && [ -e /sys/class/net/{q(interface)} ]"


@dataclass(frozen=True)
class LiveInterface(Resource):
    """The interface exists, with the mesh address and MTU: else restart it.

    A stopped service is the Service resource's to report and start; this
    one speaks only while the service claims to be up.
    """

    interface: str
    service: str
    address: str
    mtu: int

    def __post_init__(self):
        object.__setattr__(self, "notify", (RESTART,))
        super().__post_init__()

    @property
    def key(self) -> str:
        return f"live interface {self.interface}"

    def probe(self) -> str:
        i = q(self.interface)
        return (
            f"if ! systemctl is-active -q {q(self.service)}; then echo inactive; "
            f"elif [ ! -e /sys/class/net/{i} ]; then echo missing; "
            f"else echo up; cat /sys/class/net/{i}/mtu; ip -o addr show dev {i} | awk '{{print $4}}'; fi"
        )

    def compare(self, output: str) -> Change | None:
        found = lines(output)
        state = found[0].strip() if found else "inactive"
        if state == "inactive":
            return None
        if state == "missing":
            return self.change("restart", f"{self.service} is active but {self.interface} is gone")
        problems = self.differences(found[1].strip() if len(found) > 1 else "", found[2:])
        return self.change("restart", "; ".join(problems)) if problems else None

    def differences(self, mtu: str, addresses: list[str]) -> list[str]:
        problems = []
        if mtu != str(self.mtu):
            problems.append(f"mtu {mtu or '?'} -> {self.mtu}")
        live = sorted(a.strip() for a in addresses if a.strip() and not a.startswith("fe80:"))
        if live != [self.address]:
            problems.append(f"address {', '.join(live) or 'none'} -> {self.address}")
        return problems

    def fix(self, change: Change) -> str:
        return NO_OP


@dataclass(frozen=True)
class LivePeer:
    """One peer as `wg show dump` reports it (public fields only)."""

    public_key: str
    endpoint: str
    allowed_ips: tuple[str, ...]
    keepalive: str


def parse_peers(rows: list[str]) -> dict[str, LivePeer]:
    """Peer rows cut to: public key, endpoint, allowed IPs, keepalive."""
    peers = {}
    for row in rows:
        fields = row.rstrip("\n").split("\t")
        if len(fields) != 4:
            continue
        key, endpoint, allowed, keepalive = fields
        ips = () if allowed in ("(none)", "") else tuple(sorted(allowed.split(",")))
        peers[key] = LivePeer(key, endpoint, ips, keepalive)
    return peers


@dataclass(frozen=True)
class LivePeers(Resource):
    """The running interface's key, listen port and peers are the mesh's: else sync.

    An endpoint is compared only where the desired one is an IP address (a
    name would be resolved first) and only for peers this host dials; peers
    behind NAT roam, and WireGuard follows them.
    """

    interface: str
    service: str
    key_path: str
    listen_port: int
    peers: tuple[Peer, ...]

    def __post_init__(self):
        object.__setattr__(self, "notify", (SYNC,))
        object.__setattr__(self, "peers", tuple(self.peers))
        super().__post_init__()

    @property
    def key(self) -> str:
        return f"live peers {self.interface}"

    def probe(self) -> str:
        i = q(self.interface)
        return (
            f"if {_active(self.service, self.interface)}; then echo up; "
            f"if [ \"$(wg show {i} public-key)\" = \"$({public_key_command(self.key_path)})\" ]; "
            "then echo key-current; else echo key-stale; fi; "
            f"wg show {i} listen-port; "
            f"{public_dump(self.interface)}; "
            "else echo down; fi"
        )

    def compare(self, output: str) -> Change | None:
        found = lines(output)
        if not found or found[0].strip() != "up":
            return None
        problems = []
        if len(found) < 2 or found[1].strip() != "key-current":
            problems.append(f"the running key is not the one in {self.key_path}")
        port = found[2].strip() if len(found) > 2 else ""
        if port != str(self.listen_port):
            problems.append(f"listen port {port or '?'} -> {self.listen_port}")
        problems += peer_differences(self.peers, parse_peers(found[3:]))
        return self.change("sync", "; ".join(problems)) if problems else None

    def fix(self, change: Change) -> str:
        return NO_OP


def peer_differences(desired: tuple[Peer, ...], live: dict[str, LivePeer]) -> list[str]:
    """What differs, peer by peer, named by host where the peer is known, in words of what the
    sync does: a running peer of another key on a member's mesh addresses is that member's old
    key (a rotation), said as the key it takes ('peer worker1 key nak6U2xq… -> 4dTqyH1M…')."""
    wanted = {p.public_key for p in desired}
    strangers = {key: peer for key, peer in live.items() if key not in wanted}
    problems = []
    for peer in desired:
        found = live.get(peer.public_key)
        if found is not None:
            problems += [f"peer {peer.name} {what}" for what in _peer_changes(peer, found)]
            continue
        old = next((key for key, p in strangers.items() if p.allowed_ips == tuple(sorted(peer.allowed_ips))), None)
        if old is not None:
            del strangers[old]
            problems.append(f"peer {peer.name} key {short_key(old)} -> {short_key(peer.public_key)}")
        else:
            problems.append(f"peer {peer.name} to be added")
    problems += [f"peer {short_key(key)} is no mesh member: to be removed" for key in strangers]
    return problems


def short_key(key: str) -> str:
    """A public key's first characters, enough to tell keys apart in a table."""
    return key[:8] + "…" if len(key) > 9 else key


def _peer_changes(peer: Peer, live: LivePeer) -> list[str]:
    changes = []
    if live.allowed_ips != tuple(sorted(peer.allowed_ips)):
        changes.append(f"allowed ips {','.join(live.allowed_ips) or 'none'} -> {','.join(peer.allowed_ips)}")
    if peer.endpoint is not None and peer.endpoint.is_literal and live.endpoint != str(peer.endpoint):
        changes.append(f"endpoint {live.endpoint} -> {peer.endpoint}")
    keepalive = str(peer.keepalive) if peer.keepalive else "off"
    if live.keepalive != keepalive:
        changes.append(f"keepalive {live.keepalive} -> {keepalive}")
    return changes
