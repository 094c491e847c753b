"""An account on a managed host plants links where root writes, then a bootstrap runs.

Each test acts as a real unprivileged account of a lab host (the `bind` and
`opendkim` service accounts, the admin `ops`), plants a link or keeps
swapping files in a folder that account owns, forces the write with a change
only the operator's run can make, runs `fab -H <host> bootstrap`, and checks
that a file only root may read or write (/root/ff-safe-writes, 0600) was
neither written, nor chowned, nor chmodded, nor created. Each converges its
host again at the end.
"""

from __future__ import annotations

import shutil
import subprocess
import time

import pytest

from tests.faults.conftest import FaultLab

SECRET = "/root/ff-safe-writes"
PLANTED = "/root/ff-safe-writes-planted"
SECRET_STATE = "0 0 600 root-only secret"
#: writes of ~/.ssh/authorized_keys while the admin races root
ROUNDS = 5


@pytest.fixture(scope="module")
def lab(pytestconfig, tmp_path_factory) -> FaultLab:
    """The lab as it is (each test converges the one host it uses)."""
    from fleetfab.lab.paths import inventory_path

    if not shutil.which("docker") or subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        pytest.skip("the lab's docker engine does not answer: run ./run lab first")
    return FaultLab(inventory_path(pytestconfig.getoption("inventory")), tmp_path_factory.mktemp("safe-writes"))


def as_account(account: str, script: str) -> str:
    """A script run inside a lab host as `account` (a service account has no login shell)."""
    return f"setpriv --reuid={account} --regid={account} --init-groups --reset-env sh -c '{script}'"


def plant_secret(lab: FaultLab, host: str) -> None:
    lab.sh(host, f"rm -f {PLANTED}; umask 077; printf 'root-only secret' > {SECRET}; chown root:root {SECRET}; chmod 600 {SECRET}")


def secret_state(lab: FaultLab, host: str) -> str:
    return lab.sh(host, f"stat -c '%u %g %a' {SECRET}; cat {SECRET}; [ -e {PLANTED} ] && echo ' PLANTED FILE CREATED' || true").replace("\n", " ").strip()


def bootstrap(lab: FaultLab, host: str):
    return lab.fab("-H", host, "bootstrap")


def converge(lab: FaultLab, host: str) -> None:
    code, run = bootstrap(lab, host)
    assert code == 0, run.output


def test_bind_cannot_redirect_roots_write_of_a_new_challenge_zone(lab):
    host, folder = "ns1", "/var/lib/bind/fleetfab-dynamic"
    zone = lab.sh(host, f"cd {folder} && ls *.zone | head -n 1").strip()
    assert zone, f"no challenge zone on {host}"
    plant_secret(lab, host)
    lab.sh(host, f"cp -p {folder}/{zone} /root/ff-zone-kept && rm -f {folder}/{zone} {folder}/{zone}.jnl")
    lab.sh(host, as_account("bind", f"ln -sfn {SECRET} {folder}/{zone}.new"))
    try:
        code, run = bootstrap(lab, host)
        assert code == 0, run.output
        assert secret_state(lab, host) == SECRET_STATE
    finally:
        lab.sh(host, f"rm -f {folder}/{zone}.new; [ -f {folder}/{zone} ] || cp -p /root/ff-zone-kept {folder}/{zone}; "
                     f"rm -f /root/ff-zone-kept {SECRET} {PLANTED}")
        converge(lab, host)


def test_opendkim_cannot_redirect_roots_write_of_the_signing_selector(lab):
    host, folder = "mail1", "/etc/opendkim/keys"
    plant_secret(lab, host)
    keys = lab.sh(host, f"ls {folder}").split()
    lab.sh(host, f"cp -p {folder}/active /root/ff-active-kept && rm -f {folder}/active")
    lab.sh(host, as_account("opendkim", f"ln -s {PLANTED} {folder}/active"))
    try:
        bootstrap(lab, host)  # fails at its end: ns1 does not serve the new key yet
        assert secret_state(lab, host) == SECRET_STATE
        assert lab.sh(host, f"stat -c '%F %U' {folder}/active").strip() == "regular file opendkim"
    finally:
        extra = [name for name in lab.sh(host, f"ls {folder}").split() if name not in keys and name != "active"]
        lab.sh(host, f"cd {folder} && rm -f active {' '.join(extra)} && cp -p /root/ff-active-kept active; "
                     f"rm -f /root/ff-active-kept {SECRET} {PLANTED}")
        converge(lab, host)


SWAPPER = """
import os, sys, time
folder, target = sys.argv[1], sys.argv[2]
end, swapped = time.time() + 300, set()
while time.time() < end:
    for name in os.listdir(folder):
        if name.startswith(".fleetfab.") and len(name) == 16 and name not in swapped:
            path = os.path.join(folder, name)
            try:
                os.rename(path, os.path.join(folder, "taken" + name))
                os.symlink(target, path)
                swapped.add(name)
            except OSError:
                pass
"""


def test_an_admin_cannot_swap_roots_temporary_file_in_its_own_ssh_folder(lab):
    host, folder = "ns2", "/home/ops/.ssh"
    plant_secret(lab, host)
    lab.sh(host, f"printf '%s' '{SWAPPER}' > /tmp/ff-swapper.py && chmod 644 /tmp/ff-swapper.py")
    lab.sh(host, "nohup " + as_account("ops", f"exec python3 /tmp/ff-swapper.py {folder} {SECRET}")
           + " >/dev/null 2>&1 & echo $! > /tmp/ff-swapper.pid")
    time.sleep(1)
    try:
        # a race: the account gets several writes to win (one of two was enough before the fix)
        for attempt in range(ROUNDS):
            lab.sh(host, f"rm -f {folder}/authorized_keys; echo 'ssh-ed25519 AAAAforced{attempt} ops-test' > {folder}/authorized_keys")
            bootstrap(lab, host)
            assert secret_state(lab, host) == SECRET_STATE, f"after {attempt + 1} writes"
    finally:
        lab.sh(host, "kill $(cat /tmp/ff-swapper.pid) 2>/dev/null || true")
        lab.sh(host, f"rm -f /tmp/ff-swapper.py /tmp/ff-swapper.pid {folder}/.fleetfab.* {folder}/taken.fleetfab.* {SECRET} {PLANTED}")
        converge(lab, host)
