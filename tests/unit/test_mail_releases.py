"""The mail role on Debian 12 and 13: Dovecot 2.3 or 2.4, Postfix 3.7 or 3.10, per host.

Dovecot 2.4 (Debian 13) refuses a 2.3 configuration; its syntax was checked
by Debian 13's own `doveconf -n` (see README); here each host's files are
rendered from its release as read by the engine.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from fleetfab.release import Release
from fleetfab.resources import File
from fleetfab.roles.mail import Mail
from fleetfab.roles.mail.published import main_cf_settings
from tests.unit.mail_fleet import BOOKWORM, INVENTORY, TRIXIE, context

#: a Debian 13 host whose mail packages are not installed yet (a first bootstrap)
FRESH_TRIXIE = Release("debian", "13", "trixie", {})
#: a host upgraded to Debian 13 whose Dovecot is still 2.3 (the upgrade stopped half way)
HALF_UPGRADED = Release("debian", "13", "trixie", {"dovecot-core": "1:2.3.19.1+dfsg1-2.1+deb12u1",
                                                    "postfix": "3.7.11-0+deb12u1"})


@pytest.fixture
def inventory(load):
    return load(INVENTORY)


def content(inventory, path: str, release: Release) -> str:
    [found] = [r for r in Mail().resources(context(inventory, release=release)) if isinstance(r, File) and r.path == path]
    return found.content


def settings(text: str) -> list[str]:
    """The configuration's lines that are not comments or blank."""
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_debian_12_gets_dovecot_23s_syntax(inventory):
    conf = content(inventory, "/etc/dovecot/dovecot.conf", BOOKWORM)
    assert "ssl_cert = </etc/fleetfab/mail/tls.crt" in conf and "mail_location = maildir:~/Maildir" in conf
    assert "dovecot_config_version" not in conf


def test_debian_13_gets_dovecot_24s_syntax_with_its_version_first(inventory):
    lines = settings(content(inventory, "/etc/dovecot/dovecot.conf", TRIXIE))
    assert lines[0] == "dovecot_config_version = 2.4.0"
    assert "dovecot_storage_version = 2.4.0" in lines
    assert {"ssl_server_cert_file = /etc/fleetfab/mail/tls.crt", "ssl_server_key_file = /etc/fleetfab/mail/tls.key",
            "mail_driver = maildir", "mail_path = ~/Maildir", "auth_allow_cleartext = no",
            "passwd_file_path = /etc/dovecot/fleetfab-users", "home = /var/vmail/%{user | domain}/%{user | username}",
            } <= set(lines)


@pytest.mark.parametrize("gone", ["ssl_cert", "ssl_key", "mail_location", "disable_plaintext_auth",
                                  "ssl_prefer_server_ciphers", "args", "driver"])
def test_no_setting_dovecot_24_removed_is_in_its_configuration(inventory, gone):
    lines = settings(content(inventory, "/etc/dovecot/dovecot.conf", TRIXIE))
    assert not [line for line in lines if line.split(" = ")[0] == gone]


def test_no_23_variable_is_left_in_the_24_configuration(inventory):
    conf = content(inventory, "/etc/dovecot/dovecot.conf", TRIXIE)
    assert not [v for v in ("%u", "%d", "%n") if v in conf]


def test_a_package_not_installed_yet_renders_as_the_release_ships_it(inventory):
    assert settings(content(inventory, "/etc/dovecot/dovecot.conf", FRESH_TRIXIE))[0] == "dovecot_config_version = 2.4.0"


def test_the_installed_dovecot_decides_over_the_release_name(inventory):
    assert "dovecot_config_version" not in content(inventory, "/etc/dovecot/dovecot.conf", HALF_UPGRADED)


def test_postfix_310_keeps_the_sasl_path_debians_upgrade_writes(inventory):
    found = main_cf_settings(content(inventory, "/etc/postfix/main.cf", TRIXIE))
    assert found["cyrus_sasl_config_path"] == "/etc/postfix/sasl"


def test_postfix_37_has_no_sasl_path_setting(inventory):
    assert "cyrus_sasl_config_path" not in main_cf_settings(content(inventory, "/etc/postfix/main.cf", BOOKWORM))


def test_one_fleet_renders_each_mail_host_for_its_own_release(inventory):
    old = content(inventory, "/etc/dovecot/dovecot.conf", BOOKWORM)
    new = content(inventory, "/etc/dovecot/dovecot.conf", TRIXIE)
    assert old != new and settings(new)[0].startswith("dovecot_config_version")


@pytest.mark.skipif(not shutil.which("doveconf"), reason="doveconf is not installed on this machine")
def test_this_machines_own_doveconf_accepts_the_configuration_of_its_release(inventory, tmp_path):
    """Dovecot's own parser on whichever Dovecot this machine has (2.3 on Debian 12, 2.4 on 13)."""
    installed = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "dovecot-core"], capture_output=True, text=True).stdout
    release = TRIXIE if installed and Release("debian", "13", "trixie", {"dovecot-core": installed}).at_least("dovecot-core", "2.4") else BOOKWORM
    conf = tmp_path / "dovecot.conf"
    conf.write_text(content(inventory, "/etc/dovecot/dovecot.conf", release))
    checked = subprocess.run(["doveconf", "-n", "-c", str(conf)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr


def services(inventory, release: Release) -> dict:
    from fleetfab.resources import Service

    return {r.name: r for r in Mail().resources(context(inventory, release=release)) if isinstance(r, Service)}


def test_debian_12_runs_postfix_through_its_instance_postfix_at_dash(inventory):
    units = services(inventory, BOOKWORM)
    assert units["postfix@-"].running and units["postfix"].running


def test_debian_13_runs_postfix_service_itself_and_keeps_the_conflicting_instance_off(inventory):
    units = services(inventory, TRIXIE)
    assert units["postfix"].running and units["postfix"].enabled
    assert not units["postfix@-"].running and not units["postfix@-"].enabled


def test_a_reload_that_needs_a_start_restarts_the_unit_of_the_hosts_release(inventory):
    assert "systemctl restart postfix\n" in Mail().handlers(context(inventory, release=TRIXIE))["reload postfix"]
    assert "systemctl restart postfix@-\n" in Mail().handlers(context(inventory, release=BOOKWORM))["reload postfix"]
