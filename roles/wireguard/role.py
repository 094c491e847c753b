"""The wireguard role: every member reaches every other over one WireGuard mesh.

prepare   wireguard-tools (and wireguard-go where the kernel has no module),
          /etc/wireguard, and a private key generated on the host
exports   the host's public key, for the other members
resources wg0.conf (no private key in it), wg-quick@wg0 enabled and running,
          and the live interface compared with the mesh
handlers  `sync wg0` (peers, listen port, key: tunnels stay up) and
          `restart wg0` (address, MTU)
"""

from __future__ import annotations

import ipaddress
from collections import Counter

from fleetfab import shapes
from fleetfab.problems import Problem
from fleetfab.resources import Directory, File, Packages, Service
from fleetfab.role import Export, Role, needs_exports, settings_problem
from fleetfab.roles.wireguard import allocation
from fleetfab.roles.wireguard.keys import PrivateKey, public_key_command
from fleetfab.roles.wireguard.live import RESTART, SYNC, LiveInterface, LivePeers
from fleetfab.roles.wireguard.mesh import ROLE, Member, member, members, peers_of
from fleetfab.roles.wireguard.settings import (CONFIG_DIR, CONFIG_PATH, DEFAULTS, INTERFACE, KEY_PATH, SERVICE, SETTINGS,
                                      parse_endpoint)
from fleetfab.roles.wireguard.sync import restart_script, sync_script
from fleetfab.roles.wireguard.userspace import UserspaceFallback


class WireGuard(Role):
    name = ROLE
    after = ("base",)
    settings = SETTINGS
    defaults = DEFAULTS

    # -- validation ---------------------------------------------------------------

    def check(self, inventory):
        # A member with no network at all is already reported as missing it.
        hosts = [h for h in inventory.with_role(ROLE) if h.settings(ROLE).get("network")]
        problems = list(_network_problems(inventory, hosts))
        problems += _endpoint_problems(inventory, hosts)
        problems += _fixed_address_problems(inventory, hosts)
        if problems:
            return problems
        return list(_clash_problems(inventory, hosts))

    # -- phases -------------------------------------------------------------------

    def prepare(self, ctx):
        yield Packages(("wireguard-tools",))
        yield UserspaceFallback()
        yield Directory(CONFIG_DIR, mode="0700")
        yield PrivateKey(KEY_PATH)

    def exports(self, ctx):
        return {"public_key": Export(public_key_command(KEY_PATH), shape=shapes.WIREGUARD_KEY)}

    def resources(self, ctx):
        me = member(ctx.host)
        # Peers need every other member's public key; a member never read and
        # not remembered holds back only these, never the interface itself.
        yield from needs_exports(lambda: self._config(ctx, me), f"file {CONFIG_PATH}")
        yield Service(SERVICE)
        yield LiveInterface(INTERFACE, SERVICE, me.interface_address, me.mtu)
        yield from needs_exports(lambda: self._live_peers(ctx, me), f"live peers of {INTERFACE}")

    def _config(self, ctx, me):
        yield File(CONFIG_PATH, render_config(ctx, me, desired_peers(ctx, me)), mode="0600", notify=SYNC)

    def _live_peers(self, ctx, me):
        yield LivePeers(INTERFACE, SERVICE, KEY_PATH, me.listen_port, tuple(desired_peers(ctx, me)))

    def health(self, ctx):
        from fleetfab.roles.wireguard.health import checks

        return checks(ctx)

    def handlers(self, ctx):
        # Order matters when both fire: a restart reads wg0.conf whole, and the
        # sync after it then finds nothing left to do.
        return {RESTART: restart_script(SERVICE), SYNC: sync_script(INTERFACE, KEY_PATH)}


def desired_mesh(ctx) -> tuple[Member, list]:
    """This host's Member and its peers, with the public keys the others export."""
    me = member(ctx.host)
    return me, desired_peers(ctx, me)


def desired_peers(ctx, me: Member) -> list:
    everyone = members(ctx.inventory)
    keys = {m.name: ctx.export(m.name, "public_key") for m in everyone if m.name != me.name}
    return peers_of(me, everyone, keys)


def render_config(ctx, me: Member, peers: list) -> str:
    return ctx.template("wireguard/wg0.conf.j2", me=me, peers=peers, key_path=KEY_PATH)


# -- fleet-wide checks ------------------------------------------------------------


def _network_problems(inventory, hosts):
    for host in hosts:
        if not allocation.room(ipaddress.ip_network(host.settings(ROLE)["network"])):
            yield settings_problem(inventory, host, ROLE, "network", "too small for a mesh (needs two host addresses)")
    networks = Counter(h.settings(ROLE)["network"] for h in hosts)
    if len(networks) > 1:
        common = networks.most_common(1)[0][0]
        for host in hosts:
            if host.settings(ROLE)["network"] != common:
                yield settings_problem(inventory, host, ROLE, "network",
                                       f"every mesh member needs the same network; most have {common}")


def _endpoint_problems(inventory, hosts):
    for host in hosts:
        s = host.settings(ROLE)
        if s.get("endpoint"):
            try:
                parse_endpoint(s["endpoint"], s["listen_port"])
            except ValueError as exc:
                yield settings_problem(inventory, host, ROLE, "endpoint", f"not an endpoint: {exc}")


def _fixed_address_problems(inventory, hosts):
    for host in hosts:
        s = host.settings(ROLE)
        if not s.get("address"):
            continue
        network = ipaddress.ip_network(s["network"])
        address = ipaddress.ip_address(s["address"])
        if not allocation.usable(network, address):
            what = "outside" if address not in network else "a reserved address of"
            yield settings_problem(inventory, host, ROLE, "address", f"{address} is {what} the mesh network {network}")


def _clash_problems(inventory, hosts):
    """Two members on one address; each is told, with a free address to pin.

    A fixed address is pointed at where it is written; an allocated one at
    the host, where a pin would go.
    """
    everyone = {h.name: member(h).address for h in hosts}
    network = ipaddress.ip_network(hosts[0].settings(ROLE)["network"]) if hosts else None
    for address, names in allocation.clashes(everyone).items():
        for name in names:
            host = inventory.hosts[name]
            others = ", ".join(n for n in names if n != name)
            free = allocation.free_suggestion(name, network, everyone.values())
            hint = f"; pin one of them with `address:` (for example {free})" if free else ""
            if host.settings(ROLE).get("address"):
                yield settings_problem(inventory, host, ROLE, "address", f"its fixed address {address} is also held by {others}{hint}")
            else:
                yield Problem(str(inventory.path), host.line, f"hosts.{name}.vars.{ROLE}.address",
                              f"its allocated address {address} is also held by {others}{hint}")
