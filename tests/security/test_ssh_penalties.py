"""OpenSSH 10's PerSourcePenalties on a Debian 13 lab host, as fleetfab leaves them.

fleetfab keeps OpenSSH's penalties and exempts only the addresses in
`base.ssh.penalty_exempt`; the lab names its own host there, so the fault
tests' failing logins and ssh-audit's burst never lock the lab host out. An
address that is not exempt (another lab machine) is still penalised. The
source is edge1 and the target mail1: no test reaches mail1 through edge1.
The target's sshd is restarted at the end, which forgets every penalty.
"""

from __future__ import annotations

import subprocess

import pytest

from tests.security.lab_hosts import lab_hosts  # noqa: F401  (fixture)

TARGET, SOURCE = "mail1", "edge1"
LAB_HOST = "198.18.0.1"
#: logins with a key the target does not know: OpenSSH's authfail penalty is 5 s each, enforced from 15 s
FAILED_LOGINS = 5
#: the first bytes of an SSH server's greeting, or what came instead
BANNER = ("python3 -c \"import socket,sys\ns=socket.create_connection((sys.argv[1], 22), timeout=5)\n"
          "try:\n print(s.recv(8).decode(errors='replace') or 'closed')\nexcept OSError as e:\n print(type(e).__name__)\" ")
NO_KEY_LOGIN = ("ssh -o BatchMode=yes -o IdentitiesOnly=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "
                "-o ConnectTimeout=5 -i {key} root@{address} true")


@pytest.fixture(scope="module")
def target(lab_hosts):
    if lab_hosts.sh(TARGET, "sshd -T | grep -c '^persourcepenalties ' || true").strip() != "1":
        pytest.skip(f"{TARGET}'s sshd has no PerSourcePenalties (OpenSSH 9.8+, Debian 13)")
    yield lab_hosts.inventory.hosts[TARGET].address
    # Penalties live in sshd's memory: a restart forgets them, leaving the host as the lab had it.
    lab_hosts.sh(TARGET, "systemctl restart ssh")
    lab_hosts.wait_for_ssh(TARGET)


def test_the_lab_names_its_own_host_and_nothing_else_as_exempt(lab_hosts, target):
    assert lab_hosts.sh(TARGET, "sshd -T | grep '^persourcepenaltyexemptlist '").split() == \
        ["persourcepenaltyexemptlist", LAB_HOST]


def test_an_address_that_is_not_exempt_is_refused_after_failed_logins(lab_hosts, target):
    key = lab_hosts.sh(SOURCE, "d=$(mktemp -d) && ssh-keygen -q -t ed25519 -N '' -f $d/k && echo $d/k").strip()
    try:
        assert lab_hosts.sh(SOURCE, BANNER + target).startswith("SSH-2.0"), "the target refused before any failure"
        for _ in range(FAILED_LOGINS):
            lab_hosts.sh(SOURCE, NO_KEY_LOGIN.format(key=key, address=target) + " 2>/dev/null || true")
        answer = lab_hosts.sh(SOURCE, BANNER + target).strip()
    finally:
        lab_hosts.sh(SOURCE, f"rm -rf {key.rsplit('/', 1)[0]}")
    assert not answer.startswith("SSH-2.0"), f"{SOURCE} is still greeted by {TARGET} after {FAILED_LOGINS} failed logins"


def test_the_exempt_lab_host_still_logs_in_after_as_many_failed_logins(lab_hosts, target, tmp_path):
    key = tmp_path / "unknown_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    for _ in range(FAILED_LOGINS):
        subprocess.run(NO_KEY_LOGIN.format(key=key, address=target).split(), capture_output=True, timeout=30)
    login = subprocess.run(["ssh", "-F", str(lab_hosts.paths.ssh_config), "-o", "BatchMode=yes", "-o", "ConnectTimeout=5",
                            TARGET, "true"], capture_output=True, text=True, timeout=30)
    assert login.returncode == 0, login.stderr
