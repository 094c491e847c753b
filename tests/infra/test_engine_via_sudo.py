"""fleetfab as a non-root SSH user: every command goes through `sudo -n`.

A temporary account with its own key and a sudo rule is made on one lab
host; a drift run through it must read root-only files (the sudoers drop-in,
0440) and find the converged host clean. The account is removed afterwards.
"""

from __future__ import annotations

import dataclasses
import subprocess

import pytest

from fleetfab.cli.commands import drift_exit_code
from fleetfab.report.views import PlainView
from fleetfab.runner import RunOptions, run_fleet

ACCOUNT = "fleetfab-sudo-check"


@pytest.fixture
def sudo_account(inventory, connect, tmp_path):
    """(host name, private key path) of a throwaway sudo-capable account."""
    name = next(h.name for h in inventory.hosts.values() if "base" in h.roles)
    host = connect(name)
    key = tmp_path / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    public = (tmp_path / "id_ed25519.pub").read_text().strip()
    host.run_expect([0], f"useradd -m -s /bin/bash {ACCOUNT}")
    host.run_expect([0], f"install -d -m 700 -o {ACCOUNT} -g {ACCOUNT} /home/{ACCOUNT}/.ssh")
    host.run_expect([0], f"echo '{public}' > /home/{ACCOUNT}/.ssh/authorized_keys && chown {ACCOUNT} /home/{ACCOUNT}/.ssh/authorized_keys")
    host.run_expect([0], f"echo '{ACCOUNT} ALL=(ALL) NOPASSWD: ALL' > /etc/sudoers.d/{ACCOUNT} && chmod 440 /etc/sudoers.d/{ACCOUNT}")
    try:
        yield name, key
    finally:
        host.run(f"rm -f /etc/sudoers.d/{ACCOUNT}; pkill -u {ACCOUNT}; userdel -r {ACCOUNT}")


def test_drift_through_sudo_reads_root_only_files_and_finds_no_drift(inventory, sudo_account):
    name, key = sudo_account
    as_user = dataclasses.replace(inventory.hosts[name], user=ACCOUNT)
    ssh = dataclasses.replace(inventory.ssh, identity=key)
    fleet = dataclasses.replace(inventory, ssh=ssh, hosts={**inventory.hosts, name: as_user})
    result = run_fleet(fleet, [as_user], RunOptions(apply=False, purpose="drift"), PlainView())
    [report] = result.reports
    assert report.error == ""
    assert report.changes == [], [c.change.summary for c in report.changes]
    assert drift_exit_code(result.reports) == 0
