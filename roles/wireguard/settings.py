"""The wireguard role's settings: the schema operators write, and its defaults.

Every tunable lives here, under the inventory's `wireguard:` section. The mesh
network is shared by the whole mesh (set it on a group or globally); the rest
is usually per host.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from fleetfab.schema import Bool, Field, Int, IPAddress, Network, Port, Record, Str, zone_refusal

INTERFACE = "wg0"
CONFIG_DIR = "/etc/wireguard"
CONFIG_PATH = f"{CONFIG_DIR}/{INTERFACE}.conf"
KEY_PATH = f"{CONFIG_DIR}/{INTERFACE}.key"
SERVICE = f"wg-quick@{INTERFACE}"

@dataclass
class EndpointText(Str):
    """Where peers reach a host, as `parse_endpoint` reads it (a zone index an interface name)."""

    describe: str = "host, host:port or [v6]:port"

    def refusal(self, value) -> str | None:
        why = super().refusal(value)
        if why:
            return why
        try:
            parse_endpoint(value, 1)
        except ValueError as exc:
            return f"not an endpoint: {exc}"
        return zone_refusal(value)


SETTINGS = Record({
    "network": Field(Network(), required=True,
                     doc="the mesh network, the same on every member (for example 100.64.0.0/24)"),
    "address": Field(IPAddress(),
                     doc="this host's fixed mesh address; default: a stable one derived from its name (roles/wireguard/allocation.py)"),
    "listen_port": Field(Port(), doc="UDP port this host listens on"),
    "endpoint": Field(EndpointText(),
                      doc="where peers reach this host; default: its inventory address and listen_port"),
    "behind_nat": Field(Bool(), doc="peers cannot dial this host: it dials them and keeps the tunnels alive (two such hosts cannot reach each other)"),
    "keepalive": Field(Int(1, 65535), doc="PersistentKeepalive, in seconds, of a host behind NAT"),
    "mtu": Field(Int(1280, 9000), doc="the tunnel interface's MTU"),
})

DEFAULTS = {
    "listen_port": 51820,
    "behind_nat": False,
    "keepalive": 25,
    "mtu": 1420,
}


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @property
    def is_literal(self) -> bool:
        """An IP literal is what `wg show` reports back; a name is resolved first."""
        try:
            ipaddress.ip_address(self.host)
        except ValueError:
            return False
        return True


_BRACKETED = re.compile(r"\[([0-9A-Fa-f:.]+)\](?::(\d+))?")
_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?")


def parse_endpoint(text: str, default_port: int) -> Endpoint:
    """`host`, `host:port`, a bare IPv6 address, or `[v6]:port`; ValueError otherwise."""
    bracketed = _BRACKETED.fullmatch(text)
    if bracketed:
        host, port = bracketed.group(1), bracketed.group(2)
        ipaddress.IPv6Address(host)
        return Endpoint(host, _port(port, default_port))
    if text.count(":") > 1:
        ipaddress.IPv6Address(text)
        return Endpoint(text, default_port)
    host, _, port = text.partition(":")
    if not _NAME.fullmatch(host):
        raise ValueError(f"{host!r} is not a host name or address")
    return Endpoint(host, _port(port or None, default_port))


def _port(text: str | None, default: int) -> int:
    if text is None:
        return default
    port = int(text)
    if not 1 <= port <= 65535:
        raise ValueError(f"port {port} is out of range")
    return port
