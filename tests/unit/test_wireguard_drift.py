"""Drift of the running interface, classified from canned `wg show` output."""

from __future__ import annotations

import subprocess

import pytest

from fleetfab.roles.wireguard.live import public_dump
from tests.unit.wireguard_fleet import PUBLIC_KEYS, desired, write_and_load

A, B, C, D = (PUBLIC_KEYS[n] for n in ("alpha", "bravo", "charlie", "delta"))
STRANGER = "SSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSA="


@pytest.fixture
def alpha(tmp_path):
    state = desired(write_and_load(tmp_path), "alpha")
    return state["live interface wg0"], state["live peers wg0"]


def peer_rows(alpha_peers) -> dict[str, str]:
    """What a converged alpha's probe prints for each peer (public fields only)."""
    addresses = {p.public_key: p.allowed_ips[0] for p in alpha_peers.peers}
    return {
        B: f"{B}\t198.18.0.12:51820\t{addresses[B]}\toff",
        C: f"{C}\t198.18.0.13:40000\t{addresses[C]}\toff",
        D: f"{D}\t198.19.0.14:51821\t{addresses[D]}\toff",
    }


def probe_output(rows: dict[str, str], key="key-current", port="51820") -> str:
    return "\n".join(["up", key, port, *rows.values()]) + "\n"


def summary(resource, output: str) -> str | None:
    change = resource.compare(output)
    return None if change is None else change.summary


# -- peers ----------------------------------------------------------------------------


def test_a_converged_interface_shows_no_drift(alpha):
    _, peers = alpha
    assert peers.compare(probe_output(peer_rows(peers))) is None


def test_a_peer_added_by_hand_is_drift(alpha):
    _, peers = alpha
    rows = peer_rows(peers) | {STRANGER: f"{STRANGER}\t(none)\t100.64.0.99/32\toff"}
    assert summary(peers, probe_output(rows)) == "peer SSSSSSSS… is no mesh member: to be removed"


def test_a_missing_peer_is_drift_named_by_host(alpha):
    _, peers = alpha
    rows = peer_rows(peers)
    del rows[B]
    assert summary(peers, probe_output(rows)) == "peer bravo to be added"


def test_a_peer_running_an_old_key_on_its_addresses_is_said_as_its_new_key(alpha):
    _, peers = alpha
    rows = peer_rows(peers)
    rows[STRANGER] = rows.pop(B).replace(B, STRANGER)
    assert summary(peers, probe_output(rows)) == f"peer bravo key SSSSSSSS… -> {B[:8]}…"


def test_a_changed_endpoint_is_drift(alpha):
    _, peers = alpha
    rows = peer_rows(peers) | {B: peer_rows(peers)[B].replace("198.18.0.12:51820", "198.18.0.99:51820")}
    assert summary(peers, probe_output(rows)) == "peer bravo endpoint 198.18.0.99:51820 -> 198.18.0.12:51820"


def test_changed_allowed_ips_are_drift(alpha):
    _, peers = alpha
    wanted = peer_rows(peers)[B].split("\t")[2]
    rows = peer_rows(peers) | {B: f"{B}\t198.18.0.12:51820\t{wanted},100.64.0.0/24\toff"}
    assert summary(peers, probe_output(rows)).startswith("peer bravo allowed ips ")


def test_a_peer_behind_nat_may_roam_without_drift(alpha):
    _, peers = alpha
    rows = peer_rows(peers) | {C: peer_rows(peers)[C].replace("198.18.0.13:40000", "198.19.7.7:1234")}
    assert peers.compare(probe_output(rows)) is None


def test_a_keepalive_set_by_hand_is_drift(alpha):
    _, peers = alpha
    rows = peer_rows(peers) | {B: peer_rows(peers)[B].replace("\toff", "\t10")}
    assert summary(peers, probe_output(rows)) == "peer bravo keepalive 10 -> off"


def test_a_key_on_disk_that_the_interface_has_not_loaded_is_drift(alpha):
    _, peers = alpha
    assert summary(peers, probe_output(peer_rows(peers), key="key-stale")) == \
        "the running key is not the one in /etc/wireguard/wg0.key"


def test_a_changed_listen_port_is_drift(alpha):
    _, peers = alpha
    assert summary(peers, probe_output(peer_rows(peers), port="51999")) == "listen port 51999 -> 51820"


def test_every_peer_difference_is_one_sync(alpha):
    _, peers = alpha
    rows = peer_rows(peers)
    del rows[B]
    change = peers.compare(probe_output(rows, port="1"))
    assert change.action == "sync" and peers.notify == ("sync wg0",)


def test_peers_of_a_stopped_interface_are_left_to_the_service(alpha):
    _, peers = alpha
    assert peers.compare("down\n") is None


# -- interface ------------------------------------------------------------------------


def test_an_interface_with_its_address_and_mtu_shows_no_drift(alpha):
    interface, _ = alpha
    assert interface.compare("up\n1420\n100.64.0.10/24\n") is None


def test_a_changed_mtu_is_drift_that_restarts(alpha):
    interface, _ = alpha
    change = interface.compare("up\n1300\n100.64.0.10/24\n")
    assert (change.action, change.summary) == ("restart", "mtu 1300 -> 1420")


def test_a_changed_or_extra_address_is_drift_that_restarts(alpha):
    interface, _ = alpha
    assert summary(interface, "up\n1420\n100.64.0.11/24\n") == "address 100.64.0.11/24 -> 100.64.0.10/24"
    assert summary(interface, "up\n1420\n100.64.0.10/24\n100.64.5.5/32\n") == \
        "address 100.64.0.10/24, 100.64.5.5/32 -> 100.64.0.10/24"


def test_an_interface_deleted_under_a_running_service_is_drift(alpha):
    interface, _ = alpha
    assert summary(interface, "missing\n") == "wg-quick@wg0 is active but wg0 is gone"


def test_a_stopped_service_is_the_service_resources_drift_not_this_ones(alpha):
    interface, _ = alpha
    assert interface.compare("inactive\n") is None


# -- the private key never leaves the host ---------------------------------------------------

PRIVATE = "cHJpdmF0ZS1rZXktdGhhdC1tdXN0LW5ldmVyLWxlYXZlcw="
PRESHARED = "cHJlc2hhcmVkLWtleS10aGF0LW11c3QtbmV2ZXItbGVhdg="


def test_the_dump_filter_drops_the_private_and_preshared_keys(tmp_path):
    """The probe's own pipeline, run against a stand-in `wg` that prints a real-shaped dump."""
    dump = (f"{PRIVATE}\t{A}\t51820\toff\n"
            f"{B}\t{PRESHARED}\t198.18.0.12:51820\t100.64.0.32/32\t1795315871\t180\t92\toff\n")
    fake = tmp_path / "wg"
    fake.write_text(f"#!/bin/sh\nprintf '%s' '{dump}'\n")
    fake.chmod(0o755)
    out = subprocess.run(["sh", "-c", public_dump("wg0")], capture_output=True, text=True, check=True,
                         env={"PATH": f"{tmp_path}:/usr/bin:/bin"}).stdout
    assert PRIVATE not in out and PRESHARED not in out
    assert out == f"{B}\t198.18.0.12:51820\t100.64.0.32/32\toff\n"
