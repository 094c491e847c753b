"""wg0.conf and the rest of a member's desired state, from the inventory and the exported public keys."""

from __future__ import annotations

import pytest

from fleetfab.exports import ExportBook
from fleetfab.memory import ExportMemory, Remembered
from fleetfab.redact import Redactor
from fleetfab.resources.blocked import Blocked
from fleetfab.role import RoleContext
from fleetfab.resources import File, Service
from fleetfab.roles.wireguard import WireGuard
from fleetfab.roles.wireguard.keys import PrivateKey
from fleetfab.roles.wireguard.live import RESTART, SYNC
from fleetfab.roles.wireguard.userspace import UserspaceFallback
from tests.unit.wireguard_fleet import PUBLIC_KEYS, context, desired, write_and_load

CONFIG = "file /etc/wireguard/wg0.conf"


@pytest.fixture
def inventory(tmp_path):
    return write_and_load(tmp_path)


def sections(content: str) -> list[dict]:
    """wg0.conf as a list of sections, [Interface] first, then each [Peer]; comments dropped."""
    found: list[dict] = []
    for line in content.splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("["):
            found.append({"section": line.strip("[]")})
        elif line:
            key, _, value = line.partition("=")
            found[-1][key.strip()] = value.strip()
    return found


def peers(inventory, host: str) -> dict[str, dict]:
    by_key = {v: k for k, v in PUBLIC_KEYS.items()}
    return {by_key[s["PublicKey"]]: s for s in sections(desired(inventory, host)[CONFIG].content)[1:]}


def test_interface_has_the_mesh_address_port_and_mtu(inventory):
    interface = sections(desired(inventory, "delta")[CONFIG].content)[0]
    assert interface["section"] == "Interface"
    assert interface["ListenPort"] == "51821" and interface["MTU"] == "1380"
    assert interface["Address"].endswith("/24")


def test_the_config_loads_the_key_from_its_file_and_holds_none(inventory):
    interface = sections(desired(inventory, "alpha")[CONFIG].content)[0]
    assert "PrivateKey" not in interface
    assert interface["PostUp"] == "wg set %i private-key /etc/wireguard/wg0.key"


def test_every_member_has_one_peer_per_other_member(inventory):
    assert set(peers(inventory, "alpha")) == {"bravo", "charlie", "delta"}
    assert set(peers(inventory, "charlie")) == {"alpha", "bravo", "delta"}


def test_a_peer_is_allowed_only_its_own_mesh_address(inventory):
    assert peers(inventory, "bravo")["alpha"]["AllowedIPs"] == "100.64.0.10/32"


def test_a_peer_is_dialled_at_its_inventory_address_and_listen_port(inventory):
    assert peers(inventory, "alpha")["bravo"]["Endpoint"] == "198.18.0.12:51820"


def test_an_endpoint_setting_replaces_the_inventory_address(inventory):
    assert peers(inventory, "alpha")["delta"]["Endpoint"] == "198.19.0.14:51821"


def test_a_member_behind_nat_is_never_dialled(inventory):
    assert "Endpoint" not in peers(inventory, "alpha")["charlie"]


def test_a_member_behind_nat_keeps_every_tunnel_alive(inventory):
    assert {p.get("PersistentKeepalive") for p in peers(inventory, "charlie").values()} == {"25"}
    assert {p.get("PersistentKeepalive") for p in peers(inventory, "alpha").values()} == {None}


def test_a_host_removed_from_the_mesh_is_no_longer_anyones_peer(tmp_path):
    from tests.unit.wireguard_fleet import MESH

    smaller = MESH.replace("      bravo: {address: 198.18.0.12, groups: [mesh]}\n", "")
    assert "bravo" not in peers(write_and_load(tmp_path, smaller), "alpha")


def test_the_config_is_root_only_and_a_change_to_it_syncs_the_peers(inventory):
    config = desired(inventory, "alpha")[CONFIG]
    assert isinstance(config, File) and config.mode == "0600" and config.notify == (SYNC,)


def test_the_interface_runs_under_wg_quick_enabled_at_boot(inventory):
    service = desired(inventory, "alpha")["service wg-quick@wg0"]
    assert isinstance(service, Service) and service.enabled and service.running


def test_live_state_notifies_restart_for_the_interface_and_sync_for_peers(inventory):
    state = desired(inventory, "alpha")
    assert state["live interface wg0"].notify == (RESTART,)
    assert state["live peers wg0"].notify == (SYNC,)


def test_restart_runs_before_sync_when_both_are_notified(inventory):
    assert list(WireGuard().handlers(context(inventory, "alpha"))) == [RESTART, SYNC]


def test_prepare_installs_tools_and_makes_the_key_before_anything_reads_it(inventory):
    prepared = list(WireGuard().prepare(context(inventory, "alpha")))
    assert prepared[0].names == ("wireguard-tools",)
    assert isinstance(prepared[1], UserspaceFallback)
    assert isinstance(prepared[-1], PrivateKey) and prepared[-1].path == "/etc/wireguard/wg0.key"


def test_the_public_key_is_exported_and_is_not_a_secret(inventory):
    export = WireGuard().exports(context(inventory, "alpha"))["public_key"]
    assert export.command == "wg pubkey < /etc/wireguard/wg0.key" and not export.secret


def test_a_peer_never_read_holds_back_only_the_config_and_the_live_peers(inventory):
    keys = {k: v for k, v in PUBLIC_KEYS.items() if k != "bravo"}
    state = desired(inventory, "alpha", keys)
    blocked = {key for key, r in state.items() if isinstance(r, Blocked)}
    assert blocked == {CONFIG, "live peers of wg0"}
    assert "bravo" in state[CONFIG].why
    assert isinstance(state["service wg-quick@wg0"], Service)


def test_a_peer_down_now_is_configured_from_its_remembered_key(inventory):
    memory = ExportMemory(None, {("bravo", "wireguard", "public_key"): Remembered(PUBLIC_KEYS["bravo"], "2026-11-30T10:00:00Z")})
    book = ExportBook(Redactor(), memory=memory)
    for name, key in PUBLIC_KEYS.items():
        if name != "bravo":
            book.put(name, "wireguard", "public_key", key)
    book.unreadable("bravo", "connection refused")
    ctx = RoleContext(inventory, inventory.hosts["alpha"], "wireguard", book)
    state = {r.key: r for r in WireGuard().resources(ctx)}
    assert isinstance(state[CONFIG], File) and PUBLIC_KEYS["bravo"] in state[CONFIG].content
    assert [(r.host, r.read_at, r.why) for r in ctx.recalled] == [("bravo", "2026-11-30T10:00:00Z", "connection refused")]
