"""The mail role, proven with real traffic from the test runner: SMTP in, IMAP out, DKIM verified.

Every exchange is with the lab's own machines. Lab mailboxes log in with
the password `<local part>-lab-password` (inventory/lab.yml); against a real
fleet, FLEETFAB_MAIL_TEST_PASSWORD gives the password of the first mailbox
of each domain instead.
"""

from __future__ import annotations

import imaplib
import os
import smtplib
import socket
import ssl
import time
import uuid
from email.message import EmailMessage
from email.utils import make_msgid

import dkim
import dns.message
import dns.query
import pytest

from fleetfab.roles.mail import hostname
from fleetfab.roles.mail.status import all_checks, ask, served_by, served_certificate, txt_text
from fleetfab.roles.mail.dkim import KEYS_COMMAND, parse_keys
from fleetfab.roles.mail.maps import domains_of
from fleetfab.roles.mail.releases import postfix_unit_on
from tests.infra.acme import trusting

ROLE = "mail"
DELIVERY_WAIT = 30


def password(address: str) -> str:
    return os.environ.get("FLEETFAB_MAIL_TEST_PASSWORD") or f"{address.split('@')[0]}-lab-password"


@pytest.fixture(scope="module")
def domains(spec):
    return domains_of(spec.settings(ROLE))


@pytest.fixture(scope="module")
def mailbox(domains):
    """The first mailbox of the first domain the fleet's name servers serve."""
    d = domains[0]
    return f"{next(iter(d.mailboxes))}@{d.name}"


def tls_context() -> ssl.SSLContext:
    # Traffic tests need TLS, not trust: which certificate is served, and
    # whether clients trusting the fleet's CA accept it, is checked below.
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    return context


def message(sender: str, to: str, subject: str) -> EmailMessage:
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = sender, to, subject
    m["Message-ID"] = make_msgid(domain="fleetfab.test")
    m["Date"] = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime())
    m.set_content(f"fleetfab lab mail test {subject}\n")
    return m


def unique_subject() -> str:
    return f"fleetfab-{uuid.uuid4().hex}"


def fetch(address: str, subject: str, host: str) -> bytes | None:
    """The raw message with `subject` in `address`'s inbox, read over IMAPS, waiting for delivery."""
    deadline = time.monotonic() + DELIVERY_WAIT
    while time.monotonic() < deadline:
        with imaplib.IMAP4_SSL(host, 993, ssl_context=tls_context(), timeout=10) as imap:
            imap.login(address, password(address))
            imap.select("INBOX")
            _, found = imap.search(None, "SUBJECT", f'"{subject}"')
            if found[0]:
                _, data = imap.fetch(found[0].split()[-1], "(RFC822)")
                return data[0][1]
        time.sleep(1)
    return None


def send_on_25(host: str, sender: str, to: str, subject: str) -> None:
    with smtplib.SMTP(host, 25, timeout=10) as smtp:
        smtp.ehlo("tester.fleetfab.test")
        smtp.starttls(context=tls_context())
        smtp.ehlo("tester.fleetfab.test")
        smtp.send_message(message(sender, to, subject))


def submission(host: str) -> smtplib.SMTP:
    smtp = smtplib.SMTP(host, 587, timeout=10)
    smtp.ehlo("tester.fleetfab.test")
    smtp.starttls(context=tls_context())
    smtp.ehlo("tester.fleetfab.test")
    return smtp


def test_mail_services_are_running_and_enabled(host):
    # Debian 12's mail system is the instance postfix@-, Debian 13's postfix.service itself.
    for unit in (postfix_unit_on(host.system_info.codename), "dovecot", "opendkim"):
        assert host.service(unit).is_running, unit
        assert host.service(unit).is_enabled, unit


def test_a_message_on_port_25_is_delivered_and_read_back_over_imaps(spec, mailbox):
    subject = unique_subject()
    send_on_25(spec.address, "sender@example.org", mailbox, subject)
    assert fetch(mailbox, subject, spec.address) is not None


def local_alias(domains) -> tuple[str, list[str]]:
    """An alias of the host's own mailboxes, as full addresses: the one naming the most of them."""
    mailboxes = {f"{local}@{d.name}" for d in domains for local in d.mailboxes}
    found = [(f"{a}@{d.name}", [t if "@" in t else f"{t}@{d.name}" for t in ts]) for d in domains for a, ts in d.aliases.items()]
    return max((f for f in found if set(f[1]) <= mailboxes), key=lambda f: len(f[1]))


def test_a_message_to_an_alias_reaches_every_mailbox_it_names(spec, domains):
    alias, targets = local_alias(domains)
    subject = unique_subject()
    send_on_25(spec.address, "sender@example.org", alias, subject)
    for target in targets:
        assert fetch(target, subject, spec.address) is not None, target


def test_port_25_refuses_to_relay_with_a_permanent_error(spec):
    with smtplib.SMTP(spec.address, 25, timeout=10) as smtp:
        smtp.ehlo("tester.fleetfab.test")
        smtp.mail("sender@example.org")
        code, text = smtp.rcpt("someone@example.org")
    assert 500 <= code < 600, text


def test_port_25_never_offers_auth_before_or_after_starttls(spec):
    with smtplib.SMTP(spec.address, 25, timeout=10) as smtp:
        smtp.ehlo("tester.fleetfab.test")
        assert not smtp.has_extn("auth") and smtp.has_extn("starttls")
        smtp.starttls(context=tls_context())
        smtp.ehlo("tester.fleetfab.test")
        assert not smtp.has_extn("auth")


def test_submission_answers_530_to_mail_from_before_starttls(spec):
    with smtplib.SMTP(spec.address, 587, timeout=10) as smtp:
        smtp.ehlo("tester.fleetfab.test")
        code, _ = smtp.docmd("MAIL FROM:<x@example.org>")
    assert code == 530


def test_submission_refuses_a_wrong_password(spec, mailbox):
    with submission(spec.address) as smtp, pytest.raises(smtplib.SMTPAuthenticationError):
        smtp.login(mailbox, "not-the-password")


def test_submission_refuses_a_sender_address_the_user_does_not_own(spec, domains, mailbox):
    # Another mailbox of the host; on a host with one, an address of its domain nobody owns.
    others = [f"{local}@{d.name}" for d in domains for local in d.mailboxes if f"{local}@{d.name}" != mailbox]
    other = others[0] if others else f"nobody-{uuid.uuid4().hex[:8]}@{domains[0].name}"
    with submission(spec.address) as smtp:
        smtp.login(mailbox, password(mailbox))
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            smtp.send_message(message(other, mailbox, unique_subject()))


def test_submissions_on_465_speaks_tls_from_the_first_byte(spec):
    if not spec.settings(ROLE)["submissions"]:
        pytest.skip("submissions (465) is not enabled for this host")
    with smtplib.SMTP_SSL(spec.address, 465, timeout=10, context=tls_context()) as smtp:
        smtp.ehlo("tester.fleetfab.test")
        assert smtp.has_extn("auth")


def name_server_txt(inventory, name: str) -> bytes:
    """A TXT record as the fleet's name servers serve it (the first that answers)."""
    domain = name.split("._domainkey.", 1)[-1]
    for server in served_by(inventory, domain):
        query = dns.message.make_query(name, "TXT")
        answer = dns.query.udp(query, server.address, timeout=5)
        for rrset in answer.answer:
            return b"".join(b"".join(rr.strings) for rr in rrset)
    return b""


def test_authenticated_mail_is_dkim_signed_and_verifies_against_the_fleets_name_servers(spec, inventory, mailbox):
    subject = unique_subject()
    with submission(spec.address) as smtp:
        smtp.login(mailbox, password(mailbox))
        smtp.send_message(message(mailbox, mailbox, subject))
    raw = fetch(mailbox, subject, spec.address)
    assert raw is not None and b"DKIM-Signature:" in raw
    assert dkim.verify(raw, dnsfunc=lambda name, timeout=5: name_server_txt(inventory, name.decode().rstrip(".")))


def test_every_name_server_answers_mx_spf_dmarc_and_dkim_for_each_domain(spec, inventory, host):
    s = spec.settings(ROLE)
    active = host.file("/etc/opendkim/keys/active").content_string.strip()
    served = [d for d in domains_of(s) if served_by(inventory, d.name)]
    assert served, "no mail domain of this host is served by the fleet's name servers"
    for d in served:
        for server in served_by(inventory, d.name):
            assert f"10 {hostname(spec)}." in ask(server.address, d.name, "MX"), (d.name, server.name)
            assert s["spf"] in [txt_text(t) for t in ask(server.address, d.name, "TXT")], (d.name, server.name)
            assert s["dmarc"] in [txt_text(t) for t in ask(server.address, f"_dmarc.{d.name}", "TXT")]
            assert any("p=" in txt_text(t) for t in ask(server.address, f"{active}._domainkey.{d.name}", "TXT"))


def test_imap_on_143_refuses_login_before_starttls(spec, mailbox):
    with imaplib.IMAP4(spec.address, 143, timeout=10) as imap:
        assert "LOGINDISABLED" in imap.capabilities
        with pytest.raises(imaplib.IMAP4.error):
            imap.login(mailbox, password(mailbox))


def test_imaps_presents_the_configured_certificate(spec, host):
    served = served_certificate(spec.address)
    on_host = host.file("/etc/fleetfab/mail/tls.crt" if not spec.settings(ROLE).get("tls")
                        else spec.settings(ROLE)["tls"]["cert"]).content
    from cryptography import x509

    assert served == x509.load_pem_x509_certificates(on_host)[0]


def test_the_status_checks_all_pass(spec, inventory, host):
    keys = parse_keys(host.run(KEYS_COMMAND).stdout)
    active = host.file("/etc/opendkim/keys/active").content_string.strip()
    failed = [c for c in all_checks(inventory, spec, keys, active) if not c.ok]
    assert failed == []


@pytest.mark.parametrize("port", [993, 587])
def test_clients_trusting_the_fleets_ca_accept_the_mail_certificate(spec, inventory, port):
    if not spec.settings(ROLE).get("tls"):
        pytest.skip("this mail host uses its own self-signed certificate")
    context, name = trusting(inventory), hostname(spec)
    if port == 993:
        with socket.create_connection((spec.address, 993), timeout=10) as raw, \
                context.wrap_socket(raw, server_hostname=name) as tls:
            assert tls.getpeercert()
        return
    with smtplib.SMTP(spec.address, 587, timeout=10) as smtp:
        smtp.ehlo("tester.fleetfab.test")
        smtp._host = name  # the name STARTTLS checks the certificate against (smtplib uses the address given)
        smtp.starttls(context=context)
        assert smtp.sock.getpeercert()


def test_the_mta_sts_policy_is_served_over_https_and_announced_by_every_name_server(spec, inventory):
    from fleetfab.roles.mail import mtasts

    if not mtasts.enabled(spec):
        pytest.skip("MTA-STS is not enabled for this host")
    edge = inventory.hosts[spec.settings(ROLE)["mta_sts"]["edge"]]
    domains = mtasts.policy_domains(inventory, spec)
    assert domains, "no mail domain of this host is served by the fleet"
    for domain in domains:
        name = mtasts.policy_host_name(domain)
        with socket.create_connection((edge.address, 443), timeout=10) as raw, \
                trusting(inventory).wrap_socket(raw, server_hostname=name) as tls:
            tls.sendall(f"GET {mtasts.PATH} HTTP/1.1\r\nHost: {name}\r\nConnection: close\r\n\r\n".encode())
            answer = b""
            while chunk := tls.recv(4096):
                answer += chunk
        head, _, body = answer.decode().partition("\r\n\r\n")
        assert head.startswith("HTTP/1.1 200") and body == mtasts.policy(spec, hostname(spec))
        wanted = f"v=STSv1; id={mtasts.policy_id(body)}"
        for server in served_by(inventory, domain):
            assert wanted in [txt_text(t) for t in ask(server.address, f"_mta-sts.{domain}", "TXT")], server.name
