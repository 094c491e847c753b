"""Mail settings: only password hashes, every domain reachable for its abuse reports, aliases that deliver."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from fleetfab.roles.mail import hostname
from fleetfab.roles.mail.settings import hash_problem
from tests.unit.mail_fleet import ALICE_HASH, INVENTORY, line_in

ALICE = f'alice: {{password: "{ALICE_HASH}"}}'
HOST_VARS = "mail1: {address: 198.18.0.41, groups: [mail]}"
ARGON2ID = "{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$c29tZXNhbHRzb21lc2FsdA$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"
BLF_CRYPT = "{BLF-CRYPT}$2y$05$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"


def without_line(text: str, fragment: str) -> str:
    """`text` without the one line holding `fragment`."""
    lines = text.splitlines(keepends=True)
    [index] = [i for i, line in enumerate(lines) if fragment in line]
    return "".join(lines[:index] + lines[index + 1:])


def with_alice_password(password: str) -> str:
    return INVENTORY.replace(ALICE, f'alice: {{password: "{password}"}}')


def test_the_fleet_as_written_has_no_problems(load):
    assert load(INVENTORY).hosts["mail1"].roles == ("mail",)


# -- passwords ----------------------------------------------------------------


def test_a_clear_text_password_is_refused_at_its_file_line_and_field(problems):
    text = with_alice_password("correct-horse-battery")
    [found] = problems(text)
    line = line_in(text, "alice: {password")
    field = "groups.mail.vars.mail.domains.example.com.mailboxes.alice.password"
    assert found.startswith(f"{line}: {field}: looks like a clear-text password")


def test_the_refusal_of_a_clear_text_password_does_not_repeat_it(problems):
    [found] = problems(with_alice_password("correct-horse-battery"))
    assert "correct-horse-battery" not in found


def test_a_clear_text_password_in_host_vars_is_named_by_its_host_path(problems):
    text = INVENTORY.replace(HOST_VARS, "mail1: {address: 198.18.0.41, groups: [mail], vars: {mail: {domains: "
                                        "{example.com: {mailboxes: {dave: {password: s3cret-dave}}}}}}}")
    [found] = problems(text)
    line = line_in(text, "mail1: {address")
    assert found.startswith(f"{line}: hosts.mail1.vars.mail.domains.example.com.mailboxes.dave.password: "
                            "looks like a clear-text password")


@pytest.mark.parametrize("password", ["{MD5}5f4dcc3b5aa765d61d8327deb882cf99", "{PLAIN}correct-horse"])
def test_an_unknown_or_weak_scheme_is_refused(problems, password):
    [found] = problems(with_alice_password(password))
    scheme = password[: password.index("}") + 1]
    assert f"mailboxes.alice.password: unknown or weak password scheme {scheme}" in found


def test_a_malformed_sha512_crypt_hash_is_refused(problems):
    [found] = problems(with_alice_password("{SHA512-CRYPT}$6$salt$tooshort"))
    assert found.endswith("mailboxes.alice.password: not a well-formed {SHA512-CRYPT} hash")


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")
def test_a_hash_made_by_openssl_passwd_6_is_accepted(load):
    made = subprocess.run(["openssl", "passwd", "-6", "-stdin"], input="alice-password\n",
                          capture_output=True, text=True, check=True).stdout.strip()
    settings = load(with_alice_password("{SHA512-CRYPT}" + made)).hosts["mail1"].settings("mail")
    assert settings["domains"]["example.com"]["mailboxes"]["alice"]["password"] == "{SHA512-CRYPT}" + made


@pytest.mark.parametrize("password", [ALICE_HASH, ARGON2ID, BLF_CRYPT], ids=["sha512-crypt", "argon2id", "blf-crypt"])
def test_a_well_formed_hash_of_a_strong_scheme_is_accepted(load, password):
    assert hash_problem(password) is None
    assert load(with_alice_password(password)).hosts["mail1"].settings("mail")["domains"]["example.com"]


# -- the fleet-wide rules -------------------------------------------------------


@pytest.mark.parametrize("local", ["postmaster", "abuse"])
def test_a_domain_without_a_required_alias_is_a_problem(problems, local):
    text = without_line(INVENTORY, f"{local}: [{local}@example.com]")
    found = problems(text)
    assert found == [f"{line_in(text, 'domains:')}: hosts.mail1.vars.mail.domains: "
                     f"example.net needs a mailbox or alias '{local}' (RFC 2142)"]


def test_a_mailbox_named_postmaster_satisfies_the_rule(load):
    text = INVENTORY.replace("postmaster: [alice]", "info2: [alice]").replace(
        ALICE, ALICE + f'\n                  postmaster: {{password: "{ALICE_HASH}"}}')
    assert "postmaster" in load(text).hosts["mail1"].settings("mail")["domains"]["example.com"]["mailboxes"]


def test_an_alias_to_a_mailbox_that_does_not_exist_is_a_problem(problems):
    found = problems(INVENTORY.replace("info: [alice, bob]", "info: [alice, bobby]"))
    assert [f.split(": ", 1)[1] for f in found] == [
        "hosts.mail1.vars.mail.domains: example.com: alias target bobby@example.com is no mailbox"]


def test_a_catch_all_to_a_mailbox_that_does_not_exist_is_a_problem(problems):
    found = problems(INVENTORY.replace("catch_all: carol", "catch_all: caroline"))
    assert [f.split(": ", 1)[1] for f in found] == [
        "hosts.mail1.vars.mail.domains: example.net: alias target caroline@example.net is no mailbox"]


def test_an_alias_to_an_alias_of_another_local_domain_is_no_problem(load):
    text = INVENTORY.replace("abuse: [abuse@example.com]", "abuse: [abuse@example.com]\n                  help: [info@example.com]")
    assert load(text).hosts["mail1"].settings("mail")["domains"]["example.net"]["aliases"]["help"] == ["info@example.com"]


def test_an_alias_to_another_local_domain_is_checked_against_that_domain(problems):
    # example.com has an alias 'info'; example.net, without its catch-all here, has none.
    text = INVENTORY.replace("info: [alice, bob]", "info: [alice, bob]\n                  sales: [info@example.net]")
    found = problems(without_line(text, "catch_all: carol"))
    assert [f.split(": ", 1)[1] for f in found] == [
        "hosts.mail1.vars.mail.domains: example.com: alias target info@example.net is no mailbox"]


def test_an_alias_to_any_address_of_a_local_domain_with_a_catch_all_is_no_problem(load):
    text = INVENTORY.replace("info: [alice, bob]", "info: [alice, bob]\n                  sales: [orders@example.net]")
    assert load(text).hosts["mail1"].settings("mail")["domains"]["example.com"]["aliases"]["sales"] == ["orders@example.net"]


def test_an_alias_to_an_outside_address_is_not_checked(load):
    text = INVENTORY.replace("info: [alice, bob]", "info: [alice, bob, someone@elsewhere.example]")
    assert "someone@elsewhere.example" in load(text).hosts["mail1"].settings("mail")["domains"]["example.com"]["aliases"]["info"]


def test_a_hostname_that_is_also_a_mail_domain_is_a_problem(problems):
    text = INVENTORY.replace("hostname: mail1.lab.test", "hostname: example.net")
    assert problems(text) == [f"{line_in(text, 'hostname:')}: hosts.mail1.vars.mail.hostname: "
                              "example.net is also a mail domain; the server's own name must differ"]


def test_without_a_hostname_the_server_is_named_after_the_host_in_its_first_domain(load):
    inventory = load(without_line(INVENTORY, "hostname: mail1.lab.test"))
    assert hostname(inventory.hosts["mail1"]) == "mail1.example.com"
