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
from fleetfab.roles.sshd import public_line

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


def only_base_as(inventory, name: str, key):
    """The fleet as the throwaway account sees it: the base role of one host.

    The account exists on that host only, so no other host is contacted:
    the others keep their place (and names in /etc/hosts) but lose their roles.
    """
    hosts = {n: dataclasses.replace(h, roles=()) for n, h in inventory.hosts.items()}
    hosts[name] = dataclasses.replace(inventory.hosts[name], user=ACCOUNT, roles=("base",),
                                      vars=keeping_root_login(inventory, inventory.hosts[name]))
    return dataclasses.replace(inventory, ssh=dataclasses.replace(inventory.ssh, identity=key), hosts=hosts)


def keeping_root_login(inventory, host) -> dict:
    """The host's settings with the lab's root login key listed: logged in as another
    account, fleetfab keeps in root's authorized_keys only the keys the inventory lists."""
    base = dict(host.settings("base"))
    base["root_keys"] = [*base.get("root_keys", []), public_line(inventory.ssh.identity)]
    return {**host.vars, "base": base}


def test_drift_through_sudo_reads_root_only_files_and_finds_no_drift(inventory, sudo_account):
    name, key = sudo_account
    fleet = only_base_as(inventory, name, key)
    as_user = fleet.hosts[name]
    result = run_fleet(fleet, [as_user], RunOptions(apply=False, purpose="drift"), PlainView())
    [report] = result.reports
    assert report.error == ""
    assert report.changes == [], [c.change.summary for c in report.changes]
    assert drift_exit_code(result.reports) == 0
