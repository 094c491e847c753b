"""The WireGuard mesh, checked from inside every member.

Every member reaches every other member's mesh address through the tunnel,
every tunnel has shaken hands recently, and the private key lives in its key
file only: root's alone, and found in no other file on the host. The key is
never printed: the checks compare it on the host, and only file names come
back.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fleetfab.roles.wireguard.mesh import members, reachable
from fleetfab.roles.wireguard.settings import CONFIG_PATH, INTERFACE, KEY_PATH, SERVICE

ROLE = "wireguard"
#: the issue's bound on how old a peer's last handshake may be
HANDSHAKE_MAX_AGE = 180
#: where the private key could be copied to by a role, a backup or a log
SEARCHED = "/etc /root /home /var/backups /var/log /var/lib /tmp /var/tmp /usr/local /run /opt /srv"
FAB = Path(sys.executable).parent / "fab"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def mesh(inventory) -> dict:
    return {m.name: m for m in members(inventory)}


@pytest.fixture
def public_keys(connect, mesh) -> dict[str, str]:
    """Each member's public key, as its own host computes it (read afresh: rotation changes them)."""
    return {name: connect(name).check_output(f"wg pubkey < {KEY_PATH}").strip() for name in mesh}


def others(spec, mesh) -> list:
    """The members this host can have a tunnel with."""
    me = mesh[spec.name]
    return [m for m in mesh.values() if m.name != me.name and reachable(me, m)]


def ping(host, address) -> bool:
    return host.run(f"ping -n -q -c 3 -i 0.2 -W 2 {address}").rc == 0


def test_wg_quick_runs_and_is_enabled_at_boot(host):
    service = host.service(SERVICE)
    assert service.is_running and service.is_enabled


def test_interface_has_the_mesh_address(host, spec, mesh):
    addresses = host.check_output(f"ip -o addr show dev {INTERFACE}")
    assert f" {mesh[spec.name].interface_address} " in addresses


def test_pings_every_other_member_over_the_mesh(host, spec, mesh):
    unreachable = [m.name for m in others(spec, mesh) if not ping(host, m.address)]
    assert unreachable == []


def test_peers_are_exactly_the_other_members(host, spec, mesh, public_keys):
    live = set(host.check_output(f"wg show {INTERFACE} peers").split())
    assert live == {public_keys[name] for name in mesh if name != spec.name}


def test_every_peer_has_shaken_hands_in_the_last_three_minutes(host, spec, mesh, public_keys):
    for member in others(spec, mesh):
        host.run(f"ping -n -q -c 1 -W 2 {member.address}")  # a tunnel shakes hands when it carries traffic
    now = int(host.check_output("date +%s"))
    handshakes = dict(line.split("\t") for line in host.check_output(f"wg show {INTERFACE} latest-handshakes").splitlines())
    stale = {m.name: now - int(handshakes.get(public_keys[m.name], 0)) for m in others(spec, mesh)}
    assert {name: age for name, age in stale.items() if age > HANDSHAKE_MAX_AGE} == {}


def test_key_file_is_root_only(host):
    key = host.file(KEY_PATH)
    assert (key.user, key.group, key.mode) == ("root", "root", 0o600)
    assert host.file(os.path.dirname(KEY_PATH)).mode == 0o700


def test_the_config_holds_no_private_key(host):
    assert host.run(f"grep -qi '^ *PrivateKey' {CONFIG_PATH}").rc == 1


def test_no_file_but_the_key_file_holds_the_private_key(host):
    """grep on the host with the key as its pattern file: only file names come back."""
    assert host.run(f"test -s {KEY_PATH}").rc == 0
    holders = host.run(f"grep -rlsIF -D skip -f {KEY_PATH} {SEARCHED}").stdout.split()
    assert [path for path in holders if path != KEY_PATH] == []


# -- rotation (changes the mesh's keys; leaves it converged) -------------------------------------


def rotate(inventory, target: str, attempts: int = 5) -> subprocess.CompletedProcess:
    """`fab -H target wireguard.rotate`, again while another run holds a member's lock."""
    env = {**os.environ, "FLEETFAB_INVENTORY": str(inventory.path), "FLEETFAB_PARALLEL": "8"}
    for _ in range(attempts):
        done = subprocess.run([str(FAB), "-H", target, "wireguard.rotate"], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=600)
        if done.returncode == 0 or "holds the lock" not in done.stdout + done.stderr:
            return done
        time.sleep(15)
    return done


def test_rotation_replaces_the_key_everywhere_and_the_tunnels_come_back(inventory, connect, mesh):
    target = next(m for m in mesh.values() if not m.behind_nat).name
    others_ = [name for name in mesh if name != target]
    old = connect(target).check_output(f"wg pubkey < {KEY_PATH}").strip()

    done = rotate(inventory, target)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    new = connect(target).check_output(f"wg pubkey < {KEY_PATH}").strip()
    assert new != old
    assert connect(target).check_output(f"wg show {INTERFACE} public-key").strip() == new
    peers = {name: connect(name).check_output(f"wg show {INTERFACE} peers").split() for name in others_}
    assert {name: (new in keys, old in keys) for name, keys in peers.items()} == {name: (True, False) for name in others_}
    configs = {name: connect(name).run(f"grep -c {old} {CONFIG_PATH}").stdout.strip() for name in others_}
    assert set(configs.values()) == {"0"}
    me = mesh[target]
    down = [m.name for m in mesh.values() if m.name != target and reachable(me, m) and not ping(connect(target), m.address)]
    assert down == []
