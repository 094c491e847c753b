"""The mail role under an operator's hands: drift, refusals, and a DKIM key rotation, in the lab."""

from __future__ import annotations

import dkim

from tests.infra.test_mail import fetch, message, name_server_txt, password, send_on_25, submission, unique_subject

MAIL = "mail1"
MAILBOX = "alice@example.com"


def address(lab) -> str:
    return lab.inventory.hosts[MAIL].address


def active_selector(lab) -> str:
    return lab.sh(MAIL, "cat /etc/opendkim/keys/active").strip()


def changed_resources(document: dict, host: str) -> dict[str, dict]:
    return {c["resource"]: c for c in document["hosts"][host]["changes"]}


def test_a_hand_edit_of_main_cf_shows_in_drift_with_its_diff(lab):
    lab.sh(MAIL, "echo 'smtpd_banner = hand edited' >> /etc/postfix/main.cf")
    code, run = lab.fab("-H", MAIL, "drift")
    assert code == 2, run.output
    change = changed_resources(run.document(), MAIL)["file /etc/postfix/main.cf"]
    assert "+smtpd_banner = hand edited" in change["diff"] or "-smtpd_banner = hand edited" in change["diff"]
    code, run = lab.fab("-H", MAIL, "bootstrap")
    assert code == 0 and "hand edited" not in lab.sh(MAIL, "cat /etc/postfix/main.cf")


def test_an_invalid_postfix_setting_is_refused_in_postfixs_words_and_mail_still_flows(lab):
    def bogus(document):
        document["hosts"][MAIL].setdefault("vars", {}).setdefault("mail", {})["postfix"] = {"fleetfab_bogus_parameter": "1"}

    inventory = lab.inventory_copy("bogus-postfix", change=bogus)
    code, run = lab.fab("-H", MAIL, "bootstrap", inventory=inventory)
    assert code == 1, run.output
    failed = changed_resources(run.document(), MAIL)["file /etc/postfix/main.cf"]
    assert failed["status"] == "failed" and "unused parameter: fleetfab_bogus_parameter=1" in failed["error"]
    assert "fleetfab_bogus_parameter" not in lab.sh(MAIL, "cat /etc/postfix/main.cf")
    subject = unique_subject()
    send_on_25(address(lab), "sender@example.org", MAILBOX, subject)
    assert fetch(MAILBOX, subject, address(lab)) is not None


def test_a_dkim_rotation_signs_with_a_new_published_key_and_withdraws_the_old(lab):
    old = active_selector(lab)
    code, run = lab.fab("-H", MAIL, "mail.rotate-dkim")
    assert code == 0, run.output
    new = active_selector(lab)
    assert new != old
    subject = unique_subject()
    with submission(address(lab)) as smtp:
        smtp.login(MAILBOX, password(MAILBOX))
        smtp.send_message(message(MAILBOX, MAILBOX, subject))
    raw = fetch(MAILBOX, subject, address(lab))
    assert raw is not None and f"s={new};".encode() in raw.replace(b"\r\n\t", b" ").replace(b" ", b"")
    assert dkim.verify(raw, dnsfunc=lambda name, timeout=5: name_server_txt(lab.inventory, name.decode().rstrip(".")))
    for server in ("198.18.0.31", "198.18.0.32"):
        assert lab.sh(MAIL, f"dig +short +norecurse TXT {old}._domainkey.example.com @{server}").strip() == ""
    assert lab.sh(MAIL, f"ls /etc/opendkim/keys/{old}.private 2>/dev/null || echo gone").strip() == "gone"


def test_after_a_rotation_a_bootstrap_changes_nothing(lab):
    code, run = lab.fab("-H", "nodes", "bootstrap")
    assert code == 0 and run.document()["totals"]["changed"] == 0, run.output
