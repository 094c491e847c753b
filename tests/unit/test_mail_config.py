"""The mail host's desired state: Postfix's tables and configuration, Dovecot's, OpenDKIM's, and its handlers."""

from __future__ import annotations

import re

import pytest

from fleetfab.resources import Command, File
from fleetfab.resources.blocked import Blocked
from fleetfab.roles.mail import Mail, maps
from tests.unit.mail_fleet import ALICE_HASH, BOB_HASH, CAROL_HASH, INVENTORY, context

USERS = "file /etc/dovecot/fleetfab-users"


@pytest.fixture
def inventory(load):
    return load(INVENTORY)


@pytest.fixture
def domains(inventory):
    return maps.domains_of(inventory.hosts["mail1"].settings("mail"))


def desired(inventory, exports: dict | None = None) -> dict:
    return {r.key: r for r in Mail().resources(context(inventory, exports=exports))}


def content(inventory, path: str, exports: dict | None = None) -> str:
    return desired(inventory, exports)[f"file {path}"].content


def main_cf(inventory) -> dict[str, str]:
    """main.cf as parameter -> value."""
    found = {}
    for line in content(inventory, "/etc/postfix/main.cf").splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            found[key.strip()] = value.strip()
    return found


def master_cf(inventory) -> dict[str, list[str]]:
    """master.cf's inet services (smtp, submission ...) -> their -o options."""
    services: dict[str, list[str]] = {}
    current = None
    for line in content(inventory, "/etc/postfix/master.cf").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        if line[0].isspace():
            if current is not None:
                services[current].append(line.strip().removeprefix("-o "))
            continue
        name, kind = line.split()[:2]
        current = name if kind == "inet" else None
        if current:
            services[current] = []
    return services


# -- the tables -----------------------------------------------------------------


def test_the_domains_table_lists_every_mail_domain(domains):
    assert maps.domains_table(domains) == "example.com OK\nexample.net OK\n"


def test_every_mailbox_maps_to_its_maildir_under_its_domain(domains):
    assert maps.mailboxes_table(domains) == (
        "alice@example.com example.com/alice/\nbob@example.com example.com/bob/\ncarol@example.net example.net/carol/\n")


def test_an_alias_maps_to_the_full_addresses_it_delivers_to(domains):
    aliases = maps.aliases_table(domains).splitlines()
    assert "info@example.com alice@example.com,bob@example.com" in aliases
    assert "abuse@example.net abuse@example.com" in aliases


def test_a_catch_all_is_an_entry_for_the_whole_domain(domains):
    assert "@example.net carol@example.net" in maps.aliases_table(domains).splitlines()


def test_with_a_catch_all_every_mailbox_maps_to_itself_before_it(domains):
    aliases = maps.aliases_table(domains).splitlines()
    assert aliases.index("carol@example.net carol@example.net") < aliases.index("@example.net carol@example.net")


def test_without_a_catch_all_no_mailbox_maps_to_itself(domains):
    aliases = maps.aliases_table(domains).splitlines()
    assert not any(line.startswith(("alice@", "bob@")) for line in aliases)


def test_a_mailbox_may_send_as_its_own_address(domains):
    assert "bob@example.com bob@example.com" in maps.senders_table(domains).splitlines()


def test_an_alias_may_be_sent_as_by_the_mailboxes_it_delivers_to(domains):
    assert "info@example.com alice@example.com,bob@example.com" in maps.senders_table(domains).splitlines()


def test_an_alias_to_no_mailbox_of_the_host_has_no_sender(domains):
    # abuse@example.net delivers to an alias (abuse@example.com), not to a mailbox.
    assert not any(line.startswith("abuse@example.net ") for line in maps.senders_table(domains).splitlines())


def test_dovecot_users_are_full_addresses_with_their_hashes(domains):
    assert maps.users_file(domains) == (
        f"alice@example.com:{ALICE_HASH}\nbob@example.com:{BOB_HASH}\ncarol@example.net:{CAROL_HASH}\n")


def test_postfix_reads_each_table_as_a_texthash(inventory):
    cf = main_cf(inventory)
    assert cf["virtual_mailbox_domains"] == "texthash:/etc/postfix/fleetfab/domains"
    assert cf["virtual_mailbox_maps"] == "texthash:/etc/postfix/fleetfab/mailboxes"
    assert cf["virtual_alias_maps"] == "texthash:/etc/postfix/fleetfab/aliases"
    assert cf["smtpd_sender_login_maps"] == "texthash:/etc/postfix/fleetfab/senders"


def test_a_changed_table_reloads_postfix(inventory):
    state = desired(inventory)
    assert state["file /etc/postfix/fleetfab/aliases"].notify == ("reload postfix",)


# -- the users file is a secret -------------------------------------------------


def test_the_users_file_is_a_secret_readable_by_dovecot_alone(inventory):
    users = desired(inventory)[USERS]
    assert isinstance(users, File) and users.secret
    assert (users.owner, users.group, users.mode) == ("root", "dovecot", "0640")


@pytest.mark.parametrize("on_host", ["absent\n", "root dovecot 640\n" + "0" * 64 + "  -\n"], ids=["missing", "stale"])
def test_no_plan_shows_a_password_hash(inventory, on_host):
    change = desired(inventory)[USERS].compare(on_host)
    shown = str(change.as_dict())
    assert change.action in ("create", "update") and "(secret content, not shown)" in shown
    assert not any(secret in shown for secret in (ALICE_HASH, BOB_HASH, CAROL_HASH, "$6$"))


def test_the_users_file_is_never_read_back_from_the_host(inventory):
    users = desired(inventory)[USERS]
    assert "sha256sum" in users.probe() and "base64" not in users.probe() and users.shared_probe() is None


def test_no_other_resource_carries_a_password_hash(inventory):
    others = [r for key, r in desired(inventory).items() if key != USERS]
    assert not any("$6$" in str(r) for r in others)


# -- main.cf --------------------------------------------------------------------


def test_virtual_domains_are_never_local_destinations(inventory):
    cf = main_cf(inventory)
    assert cf["mydestination"] == "$myhostname, localhost"
    assert "example.com" not in cf["mydestination"] and "example.net" not in cf["mydestination"]


def test_the_server_names_itself_by_its_hostname(inventory):
    assert main_cf(inventory)["myhostname"] == "mail1.lab.test"


def test_mail_is_delivered_to_dovecot_over_lmtp(inventory):
    assert main_cf(inventory)["virtual_transport"] == "lmtp:unix:private/dovecot-lmtp"


def test_port_25_never_offers_auth(inventory):
    assert main_cf(inventory)["smtpd_sasl_auth_enable"] == "no"


def test_port_25_relays_nothing_it_does_not_host(inventory):
    cf = main_cf(inventory)
    assert cf["smtpd_relay_restrictions"].split(", ")[-1] == "reject_unauth_destination"
    assert "reject_unauth_destination" in cf["smtpd_recipient_restrictions"]


def test_every_message_passes_the_dkim_milter_and_is_kept_when_it_is_down(inventory):
    cf = main_cf(inventory)
    assert cf["smtpd_milters"] == "unix:opendkim/opendkim.sock" and cf["non_smtpd_milters"] == "$smtpd_milters"
    assert cf["milter_default_action"] == "accept"


def test_an_ipv4_host_listens_on_ipv4_only(inventory):
    assert main_cf(inventory)["inet_protocols"] == "ipv4"


def test_without_a_certificate_in_the_inventory_one_is_made_on_the_host(inventory):
    state = desired(inventory)
    made = state["command generate a self-signed TLS certificate"]
    assert isinstance(made, Command) and made.creates == "/etc/fleetfab/mail/tls.key"
    assert main_cf(inventory)["smtpd_tls_cert_file"] == "/etc/fleetfab/mail/tls.crt"


def test_a_certificate_given_in_the_inventory_is_used_and_none_is_made(load):
    inventory = load(INVENTORY.replace("tls_rpt: mailto:postmaster@example.com",
                                       "tls_rpt: mailto:postmaster@example.com\n"
                                       "            tls: {cert: /etc/ssl/mail.pem, key: /etc/ssl/mail.key}"))
    assert not any(isinstance(r, Command) for r in desired(inventory).values())
    assert main_cf(inventory)["smtpd_tls_key_file"] == "/etc/ssl/mail.key"
    assert "ssl_cert = </etc/ssl/mail.pem" in content(inventory, "/etc/dovecot/dovecot.conf")


def with_postfix(load, parameters: str):
    return load(INVENTORY.replace("tls_rpt: mailto:postmaster@example.com",
                                  f"tls_rpt: mailto:postmaster@example.com\n            postfix: {parameters}"))


def test_postfix_parameters_from_the_inventory_are_added_to_main_cf(load):
    cf = main_cf(with_postfix(load, "{message_size_limit: 52428800, smtpd_helo_restrictions: reject_invalid_helo_hostname}"))
    assert cf["message_size_limit"] == "52428800"
    assert cf["smtpd_helo_restrictions"] == "reject_invalid_helo_hostname"


def test_a_yes_or_no_postfix_parameter_is_written_as_postfix_spells_it(load):
    # YAML reads `no` and `yes` as booleans; Postfix refuses "False" and "True".
    cf = main_cf(with_postfix(load, "{smtputf8_enable: no, smtpd_delay_reject: yes}"))
    assert (cf["smtputf8_enable"], cf["smtpd_delay_reject"]) == ("no", "yes")


def test_a_list_postfix_parameter_is_written_comma_separated(load):
    cf = main_cf(with_postfix(load, "{smtpd_client_restrictions: [permit_mynetworks, reject_unknown_client_hostname]}"))
    assert cf["smtpd_client_restrictions"] == "permit_mynetworks, reject_unknown_client_hostname"


def test_main_cf_is_checked_by_postconf_and_postfix_check_before_it_replaces_the_old(inventory):
    check = desired(inventory)["file /etc/postfix/main.cf"].validate
    assert 'postconf -c "$d" -n' in check and 'postfix -c "$d" check' in check
    assert 'cp %s "$d/main.cf"' in check


# -- master.cf ------------------------------------------------------------------


def test_submission_requires_tls_and_a_login_that_owns_the_sender(inventory):
    submission = master_cf(inventory)["submission"]
    assert "smtpd_tls_security_level=encrypt" in submission
    assert "smtpd_sasl_auth_enable=yes" in submission
    assert "smtpd_sender_restrictions=reject_sender_login_mismatch" in submission


def test_implicit_tls_submission_is_off_by_default(inventory):
    assert set(master_cf(inventory)) == {"smtp", "submission"}


def test_implicit_tls_submission_is_offered_when_enabled(load):
    inventory = load(INVENTORY.replace("tls_rpt: mailto:postmaster@example.com",
                                       "tls_rpt: mailto:postmaster@example.com\n            submissions: true"))
    submissions = master_cf(inventory)["submissions"]
    assert "smtpd_tls_wrappermode=yes" in submissions
    assert "smtpd_sender_restrictions=reject_sender_login_mismatch" in submissions


def test_master_cf_is_checked_by_postfix_check_before_it_replaces_the_old(inventory):
    check = desired(inventory)["file /etc/postfix/master.cf"].validate
    assert 'postfix -c "$d" check' in check and 'cp %s "$d/master.cf"' in check


# -- dovecot.conf ---------------------------------------------------------------


def dovecot_conf(inventory) -> str:
    return content(inventory, "/etc/dovecot/dovecot.conf")


def test_dovecot_requires_tls_before_any_login(inventory):
    conf = dovecot_conf(inventory).splitlines()
    assert "ssl = required" in conf and "disable_plaintext_auth = yes" in conf


def test_dovecot_checks_passwords_against_the_users_file(inventory):
    assert re.search(r"passdb \{\n\s+driver = passwd-file\n\s+args = username_format=%u /etc/dovecot/fleetfab-users\n\}",
                     dovecot_conf(inventory))


def test_dovecot_listens_for_lmtp_inside_postfixs_chroot(inventory):
    assert re.search(r"service lmtp \{\n\s+unix_listener /var/spool/postfix/private/dovecot-lmtp \{", dovecot_conf(inventory))


def test_postfix_asks_dovecot_about_submission_logins(inventory):
    cf = main_cf(inventory)
    assert (cf["smtpd_sasl_type"], cf["smtpd_sasl_path"]) == ("dovecot", "private/auth")
    assert "unix_listener /var/spool/postfix/private/auth {" in dovecot_conf(inventory)


def test_bounces_name_the_postmaster_of_the_first_domain(inventory):
    assert "postmaster_address = postmaster@example.com" in dovecot_conf(inventory)


def test_dovecot_conf_is_checked_by_doveconf(inventory):
    assert desired(inventory)["file /etc/dovecot/dovecot.conf"].validate.startswith("doveconf -n -c %s")


# -- opendkim.conf --------------------------------------------------------------


def opendkim_conf(inventory, exports: dict | None = None) -> dict[str, str]:
    found = {}
    for line in content(inventory, "/etc/opendkim.conf", exports).splitlines():
        if line.strip() and not line.startswith("#"):
            key, value = line.split(None, 1)
            found[key] = value
    return found


def test_opendkim_signs_every_domain_with_the_active_key(inventory):
    conf = opendkim_conf(inventory)
    assert conf["Domain"] == "example.com,example.net"
    assert (conf["Selector"], conf["KeyFile"]) == ("s1", "/etc/opendkim/keys/s1.private")


def test_opendkim_signs_with_the_key_named_active_not_with_every_key(inventory):
    exports = {"dkim_keys": "s1 AAAA\ns2 BBBB\n", "dkim_active": "s2\n"}
    assert opendkim_conf(inventory, exports)["KeyFile"] == "/etc/opendkim/keys/s2.private"


def test_opendkim_listens_where_postfix_looks_for_the_milter(inventory):
    assert opendkim_conf(inventory)["Socket"] == "local:/var/spool/postfix/opendkim/opendkim.sock"


def test_opendkim_conf_is_checked_by_opendkim(inventory):
    assert desired(inventory)["file /etc/opendkim.conf"].validate == "opendkim -n -x %s"


def test_without_the_hosts_exports_only_the_signer_and_the_published_checks_wait(inventory):
    state = desired(inventory, exports={})
    blocked = sorted(key for key, r in state.items() if isinstance(r, Blocked))
    assert blocked == ["dkim records and ptr in the name servers", "file /etc/opendkim.conf"]
    assert "file /etc/postfix/main.cf" in state and "service postfix@-" in state


# -- services and handlers ------------------------------------------------------


def test_the_mail_system_instance_of_postfix_is_running(inventory):
    state = desired(inventory)
    assert {"service postfix@-", "service dovecot", "service opendkim"} <= set(state)


def test_a_changed_configuration_notifies_its_services_reload(inventory):
    state = desired(inventory)
    assert state["file /etc/postfix/main.cf"].notify == ("reload postfix",)
    assert state["file /etc/dovecot/dovecot.conf"].notify == ("reload dovecot",)
    assert state["file /etc/opendkim.conf"].notify == ("reload opendkim",)


def unconditional_lines(script: str) -> list[str]:
    """The script's commands outside any `if ... fi`."""
    depth, found = 0, []
    for line in script.splitlines():
        word = line.strip().split(" ", 1)[0]
        if word == "if":
            depth += 1
        elif word == "fi":
            depth -= 1
        elif depth == 0:
            found.append(line.strip())
    return found


@pytest.mark.parametrize("handler", ["reload postfix", "reload dovecot", "reload opendkim"])
def test_a_handler_reloads_and_restarts_only_when_the_reload_left_the_service_down(inventory, handler):
    script = Mail().handlers(context(inventory))[handler]
    first = script.splitlines()[0]
    assert "reload" in first and "restart" not in first
    assert not any("restart" in line for line in unconditional_lines(script))


def test_the_certificate_served_on_993_and_587_is_compared_with_the_one_on_disk(inventory):
    served = {r.port: r for r in desired(inventory).values() if r.key.startswith("served certificate")}
    assert set(served) == {993, 587}
    assert served[587].starttls == "smtp" and served[993].starttls is None
    assert served[993].path == served[587].path and served[993].notify and served[587].notify
