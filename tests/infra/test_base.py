"""The base role, checked on every host that carries it."""

from __future__ import annotations

import subprocess

from fleetfab.roles.base import SSHD_DROP_IN, SUDOERS, hostname

ROLE = "base"


def test_hostname_is_the_inventory_name(host, spec):
    assert host.check_output("hostname") == hostname(spec)
    assert host.file("/etc/hostname").content_string == f"{hostname(spec)}\n"


def test_every_inventory_host_resolves_to_its_address(host, inventory):
    for other in inventory.hosts.values():
        assert host.check_output(f"getent hosts {hostname(other)}").split()[0] == other.address


def test_admin_accounts_exist_with_exactly_their_keys(host, spec):
    for admin in spec.settings("base")["admins"]:
        user = host.user(admin["name"])
        assert user.exists and user.shell == admin.get("shell", "/bin/bash")
        keys = host.file(f"{user.home}/.ssh/authorized_keys")
        assert keys.user == admin["name"] and keys.mode == 0o600
        assert keys.content_string.splitlines() == admin.get("keys", [])


def test_sudo_admins_may_sudo_without_a_password(host, spec):
    assert host.file(SUDOERS).mode == 0o440
    assert host.run("visudo -c").rc == 0
    for admin in spec.settings("base")["admins"]:
        listed = host.run(f"sudo -l -n -U {admin['name']}").stdout
        assert ("NOPASSWD: ALL" in listed) == admin.get("sudo", True)


def test_sshd_in_effect_takes_keys_only(host, spec):
    effective = dict(line.split(" ", 1) for line in host.check_output("sshd -T").splitlines() if " " in line)
    assert effective["passwordauthentication"] == "no"
    assert effective["kbdinteractiveauthentication"] == "no"
    assert effective["pubkeyauthentication"] == "yes"
    wanted = spec.settings("base")["ssh"]["permit_root_login"]
    assert effective["permitrootlogin"] == {"prohibit-password": "without-password"}.get(wanted, wanted)
    assert host.file(SSHD_DROP_IN).exists


def test_sshd_offers_no_password_login_to_a_client(spec, pytestconfig):
    """What a client sees: only public keys are accepted."""
    ssh_config = pytestconfig.getoption("ssh_config") or ".lab/ssh_config"
    result = subprocess.run(
        ["ssh", "-F", ssh_config, "-o", "BatchMode=yes", "-o", "PubkeyAuthentication=no",
         "-o", "PreferredAuthentications=password,keyboard-interactive", f"nobody@{spec.name}", "true"],
        capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 255
    assert "Permission denied (publickey)" in result.stderr


def test_sshd_runs_and_starts_at_boot(host):
    ssh = host.service("ssh")
    assert ssh.is_running and ssh.is_enabled


def test_inventory_packages_are_installed(host, spec):
    for name in ("openssh-server", "sudo", "systemd-timesyncd", *spec.settings("base")["packages"]):
        assert host.package(name).is_installed, name


def test_sysctls_are_live_and_persisted(host, spec):
    for name, value in spec.settings("base")["sysctls"].items():
        assert host.sysctl(name) == value
        assert host.file("/etc/sysctl.d/90-fleetfab.conf").contains(f"^{name} = {value}$")


def test_time_is_synchronised_by_timesyncd(host, spec):
    timesyncd = host.service("systemd-timesyncd")
    assert timesyncd.is_running and timesyncd.is_enabled
    servers = spec.settings("base")["time"]["servers"]
    if servers:
        shown = host.check_output("timedatectl show-timesync -p SystemNTPServers --value")
        assert shown.split() == servers
