"""From zero to an operator's own fleet, step by step as the guide says, against three lab machines.

The steps depend on each other and run in order: install, starting
inventory, first contact with the jump host, its first bootstrap as root,
first contact and bootstrap of the hosts behind it, the switch to the
admin account, and the lockout guard.
"""

from __future__ import annotations

import re
import shlex

from tests.firstcontact.conftest import ADMIN, BEHIND, JUMP


def own_ed25519_fingerprint(lab, name: str) -> str:
    """The host's key as its console shows it (docker exec stands for the console): checked out of band."""
    return lab.sh(name, "ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub").split()[1]


def cursor(lab, name: str) -> str:
    """Where `name`'s journal ends now: logins after it belong to this step."""
    shown = lab.sh(name, "journalctl -n 0 --show-cursor --no-pager")
    return shown.split("-- cursor: ", 1)[1].strip()


def logins_after(lab, name: str, after: str) -> set[tuple[str, str]]:
    """(user, client address) of each SSH login `name`'s sshd accepted after the journal cursor `after`.

    Other logins happen meanwhile (the ops host's drift checks): only the set is asked about.
    """
    lines = lab.sh(name, f"journalctl -u ssh -o cat --no-pager --after-cursor {shlex.quote(after)} "
                         "| grep 'Accepted publickey' || true")
    return set(re.findall(r"Accepted publickey for (\S+) from (\S+) port", lines))


def test_fleetfab_installed_from_its_wheel_runs_from_the_operators_folder(operator, lab):
    identity = lab.inventory.ssh.identity
    hosts = ",".join(f"{name}={lab.inventory.hosts[name].address}" for name in (JUMP, *BEHIND))
    code, output = operator.fleetfab("init", "--path", "hosts.yml", "--admin", ADMIN, "--identity", str(identity), "--hosts", hosts)
    assert code == 0, output
    code, output = operator.fleetfab("inventory")
    assert code == 0 and "worker2" in output, output
    # lab machines are containers: timesyncd runs there only when told (as in the lab's inventory)
    operator.edit("  base:\n", "  base:\n    time: {servers: [198.18.0.1], in_container: true}\n")


def test_host_keys_are_shown_and_not_trusted_until_confirmed(operator, lab):
    code, output = operator.fleetfab("-H", JUMP, "hostkeys.collect")
    assert code == 1 and "not confirmed, nothing written" in output, output
    assert f"256 {own_ed25519_fingerprint(lab, JUMP)} {lab.inventory.hosts[JUMP].address} (ED25519)" in output
    assert not (operator.folder / "known_hosts").exists()


def test_the_jump_host_is_collected_and_bootstrapped_as_root_first(operator, lab):
    # named before the jump host's bootstrap: its sshd then lets fleetfab through to the hosts behind it only
    operator.edit("  # jump: bastion", f"  jump: {JUMP}")
    code, output = operator.fleetfab("-H", JUMP, "hostkeys.collect", "--accept", own_ed25519_fingerprint(lab, JUMP))
    assert code == 0, output
    code, output = operator.fleetfab("-H", JUMP, "bootstrap")
    assert code == 0, output


def test_hosts_behind_the_jump_host_are_collected_and_bootstrapped_through_it(operator, lab):
    since = cursor(lab, "worker2")
    fingerprints = ",".join(own_ed25519_fingerprint(lab, name) for name in BEHIND)
    code, output = operator.fleetfab("-H", ",".join(BEHIND), "hostkeys.collect", "--accept", fingerprints)
    assert code == 0, output
    code, output = operator.fleetfab("-H", ",".join(BEHIND), "bootstrap")
    assert code == 0, output
    jump_address = lab.inventory.hosts[JUMP].address
    assert {user for user, address in logins_after(lab, "worker2", since) if address == jump_address} == {"root"}


def test_the_switch_to_the_admin_account_is_one_line(operator, lab):
    # a break-glass key for root, kept once fleetfab no longer logs in as root
    key = (lab.inventory.ssh.identity.parent / f"{lab.inventory.ssh.identity.name}.pub").read_text().strip()
    since = cursor(lab, "ns2")
    operator.edit("  user: root", f"  user: {ADMIN}")
    operator.change(lambda d: d["vars"]["base"].update(root_keys=[key]))
    code, output = operator.fleetfab("-H", ",".join((JUMP, *BEHIND)), "bootstrap")
    assert code == 0, output
    code, output = operator.fleetfab("-H", ",".join((JUMP, *BEHIND)), "drift")
    assert code == 0, output
    jump_address = lab.inventory.hosts[JUMP].address
    assert {user for user, address in logins_after(lab, "ns2", since) if address == jump_address} == {ADMIN}


def test_the_lockout_guard_refuses_to_take_sudo_from_fleetfabs_own_account(operator, lab):
    operator.change(lambda d: d["vars"]["base"]["admins"][0].update(sudo=False))
    code, output = operator.fleetfab("-H", "worker2", "bootstrap", "--dry")
    assert code == 0 and "lockout guard" in output and "would lose sudo" in output, output
    code, output = operator.fleetfab("-H", "worker2", "bootstrap")
    assert code == 1 and "would lose sudo" in output, output
    assert f"{ADMIN} ALL=(ALL:ALL) NOPASSWD: ALL" in lab.sh("worker2", "cat /etc/sudoers.d/fleetfab-admins")
    operator.change(lambda d: d["vars"]["base"]["admins"][0].update(sudo=True))
