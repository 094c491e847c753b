"""OpenDKIM listens on a Unix socket in Postfix's queue directory that only Postfix reaches, not on TCP."""

from __future__ import annotations

import pytest

from fleetfab.roles.mail import MILTER_DIR, MILTER_SOCKET, RELOAD_DKIM_SCRIPT, Mail
from tests.unit.mail_fleet import INVENTORY, context


@pytest.fixture
def state(load) -> dict:
    return {r.key: r for r in Mail().resources(context(load(INVENTORY)))}


def settings(text: str, separator: str | None) -> dict[str, str]:
    found = {}
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            key, value = (line.split(separator, 1) if separator else line.split(None, 1))
            found[key.strip()] = value.strip()
    return found


def test_opendkim_listens_on_a_socket_in_postfixs_queue_directory_not_on_tcp(state):
    conf = settings(state["file /etc/opendkim.conf"].content, None)
    assert conf["Socket"] == f"local:{MILTER_SOCKET}" == "local:/var/spool/postfix/opendkim/opendkim.sock"


def test_postfix_names_the_same_socket_relative_to_its_queue_directory_chrooted_or_not(state):
    main = settings(state["file /etc/postfix/main.cf"].content, "=")
    assert main["smtpd_milters"] == "unix:opendkim/opendkim.sock"
    assert "/var/spool/postfix/" + main["smtpd_milters"].removeprefix("unix:") == MILTER_SOCKET
    assert main["non_smtpd_milters"] == "$smtpd_milters"


def test_the_sockets_folder_is_closed_to_every_account_but_postfixs_group_and_passes_that_group_on(state):
    folder = state[f"directory {MILTER_DIR}"]
    # setgid: the socket OpenDKIM makes there is group postfix, the group
    # Postfix's daemons keep (they drop supplementary groups).
    assert (folder.owner, folder.group, folder.mode) == ("opendkim", "postfix", "2750")


def test_the_socket_is_made_without_any_right_for_other_accounts(state):
    assert settings(state["file /etc/opendkim.conf"].content, None)["UMask"] == "007"


def test_a_reload_that_leaves_no_listening_socket_restarts_opendkim():
    assert f"ss -Hlx | grep -qF ' {MILTER_SOCKET} '" in RELOAD_DKIM_SCRIPT
    assert "systemctl restart opendkim" in RELOAD_DKIM_SCRIPT
    assert "8891" not in RELOAD_DKIM_SCRIPT
