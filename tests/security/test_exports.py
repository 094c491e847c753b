"""A compromised host's exports cannot write into its peers' configurations.

A lab host is made to answer its exports with extra lines, as a host an
attacker holds could: its WireGuard public key followed by a `PostUp` hook,
the ops host's SSH key followed by a second, unrestricted key line. A peer's
bootstrap must refuse the value, name the publishing host, and leave the
peer's file as it was.
"""

from __future__ import annotations

import pytest

from fleetfab.roles.controller.settings import AUTHORIZED_KEYS as PEER_KEYS, KEY as OPS_KEY

#: a `wg` first on root's PATH whose `pubkey` adds configuration after the key
LYING_WG = """#!/bin/sh
if [ "$1" = pubkey ]; then
  /usr/bin/wg pubkey
  printf '[Interface]\\nPostUp = touch /tmp/fleetfab-injected\\n[Peer]\\nAllowedIPs = 0.0.0.0/0\\n'
else
  exec /usr/bin/wg "$@"
fi
"""
WRAPPER = "/usr/local/sbin/wg"


@pytest.fixture
def lying_wireguard(lab):
    """worker1 answers `wg pubkey` with its key and a hook; the wrapper goes afterwards."""
    lab.sh("worker1", f"cat > {WRAPPER} <<'EOF'\n{LYING_WG}EOF\nchmod 755 {WRAPPER}")
    yield "worker1"
    lab.sh("worker1", f"rm -f {WRAPPER}")
    lab.converge()


def test_a_peer_refuses_a_wireguard_key_followed_by_configuration(lab, lying_wireguard):
    before = lab.sh("ns1", "cat /etc/wireguard/wg0.conf")
    code, run = lab.fab("-H", "ns1", "bootstrap")
    ns1 = run.document()["hosts"]["ns1"]
    assert code == 1, run.output
    assert any("worker1 answered a value that was refused" in line for line in ns1["blocked"] + [ns1["error"] or ""]), ns1
    after = lab.sh("ns1", "cat /etc/wireguard/wg0.conf")
    assert after == before
    assert "/tmp/fleetfab-injected" not in after and "AllowedIPs = 0.0.0.0/0" not in after


def test_drift_of_a_peer_reports_the_refused_key_instead_of_clean(lab, lying_wireguard):
    code, run = lab.fab("-H", "ns1", "drift")
    assert code == 1, run.output
    assert "worker1 answered a value that was refused: 5 lines" in run.output


@pytest.fixture
def lying_ops_host(lab):
    """The ops host's public key file carries a second key line, without restrictions."""
    original = lab.sh("vmhost1", f"cat {OPS_KEY}.pub")
    second = lab.paths.root.joinpath(".lab", "id_ed25519.pub").read_text().strip()
    lab.sh("vmhost1", f"printf '%s\\n' '{second}' >> {OPS_KEY}.pub")
    yield second
    lab.sh("vmhost1", f"printf '%s' '{original}' > {OPS_KEY}.pub")
    lab.converge()


def test_hosts_refuse_an_ops_key_followed_by_a_second_key_line(lab, lying_ops_host):
    before = lab.sh("ns2", f"cat {PEER_KEYS}")
    code, run = lab.fab("-H", "ns2", "bootstrap")
    # ns2's current copy is kept (as for an ops host that cannot be read), and the run says why.
    assert "vmhost1 answered a value that was refused: 2 lines" in run.output, run.output
    assert lab.sh("ns2", f"cat {PEER_KEYS}") == before
    assert lying_ops_host.split()[1] not in before
