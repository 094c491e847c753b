"""`fab mail.status`: is the mail server healthy, seen from outside as a sender would see it?

Checks in the spirit of Mail-in-a-Box's status page, each one a real
exchange: the ports answer, the certificate is valid and how long it has
left, every name server of each domain publishes MX, SPF, DMARC and the
host's active DKIM key, the PTR of the host's address names its EHLO name,
postmaster@ and abuse@ are accepted, the queue is short, the signer
listens. The same checks run as testinfra tests (tests/infra/test_mail.py).
"""

from __future__ import annotations

import datetime
import smtplib
import socket
import ssl
from dataclasses import asdict, dataclass

import dns.message
import dns.query
import dns.rdatatype
import dns.reversename
from cryptography import x509

from fleetfab.report.render import shown
from fleetfab.roles.mail import MILTER_SOCKET, hostname
from fleetfab.roles.mail.dkim import parse_keys, txt_value
from fleetfab.roles.mail.rotate import served_by
from fleetfab.roles.mail.settings import REQUIRED_ALIASES, ROLE

TIMEOUT = 5
#: a certificate with fewer days left than this is a warning
DAYS_WARNING = 30
QUEUE_WARNING = 50


@dataclass(frozen=True)
class Check:
    host: str
    name: str
    ok: bool
    detail: str


def ask(server: str, name: str, rtype: str) -> list[str]:
    """The answer of one name server (asked directly, without recursion)."""
    query = dns.message.make_query(name, rtype)
    query.flags &= ~dns.flags.RD
    answer = dns.query.udp(query, server, timeout=TIMEOUT)
    return [rr.to_text() for rrset in answer.answer for rr in rrset if rrset.rdtype == dns.rdatatype.from_text(rtype)]


def txt_text(rdata: str) -> str:
    """A TXT record's character-strings joined."""
    import re

    return "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', rdata))


def port_checks(host) -> list[Check]:
    s = host.settings(ROLE)
    ports = {25: "smtp", 587: "submission", 143: "imap", 993: "imaps"} | ({465: "submissions"} if s["submissions"] else {})
    found = []
    for port, name in ports.items():
        try:
            socket.create_connection((host.address, port), timeout=TIMEOUT).close()
            found.append(Check(host.name, f"port {port} ({name})", True, "answers"))
        except OSError as exc:
            found.append(Check(host.name, f"port {port} ({name})", False, str(exc)))
    return found


def served_certificate(address: str, port: int = 993) -> x509.Certificate:
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    with socket.create_connection((address, port), timeout=TIMEOUT) as raw, context.wrap_socket(raw) as tls:
        return x509.load_der_x509_certificate(tls.getpeercert(binary_form=True))


def certificate_check(host) -> Check:
    name = hostname(host)
    try:
        cert = served_certificate(host.address)
    except OSError as exc:
        return Check(host.name, "certificate", False, str(exc))
    left = (cert.not_valid_after_utc - datetime.datetime.now(datetime.timezone.utc)).days
    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
    except x509.ExtensionNotFound:
        names = []
    ok = left > DAYS_WARNING and name in names
    return Check(host.name, "certificate", ok, f"{', '.join(names) or 'no names'}; {left} days left")


def dns_checks(inventory, host, keys: dict[str, str], active: str) -> list[Check]:
    s = host.settings(ROLE)
    found = []
    for domain in sorted(s["domains"]):
        servers = served_by(inventory, domain)
        if not servers:
            found.append(Check(host.name, f"dns {domain}", True, "not a fleet zone: see `fab mail.records`"))
        for server in servers:
            found += _records_on(host, domain, server, keys, active, s)
    return found


def _records_on(host, domain, server, keys, active, s) -> list[Check]:
    wanted = [("MX", domain, lambda got: any(g.endswith(f" {hostname(host)}.") for g in got)),
              ("SPF", domain, lambda got: s["spf"] in [txt_text(g) for g in got]),
              ("DMARC", f"_dmarc.{domain}", lambda got: s["dmarc"] in [txt_text(g) for g in got])]
    if active in keys:
        wanted.append(("DKIM", f"{active}._domainkey.{domain}", lambda got: txt_value(keys[active]) in [txt_text(g) for g in got]))
    checks = []
    for label, name, good in wanted:
        rtype = "MX" if label == "MX" else "TXT"
        try:
            got = ask(server.address, name, rtype)
            checks.append(Check(host.name, f"{label} {domain} on {server.name}", good(got), "; ".join(got)[:120] or "none"))
        except Exception as exc:  # a name server down is a failed check, not a crash
            checks.append(Check(host.name, f"{label} {domain} on {server.name}", False, str(exc) or type(exc).__name__))
    return checks


def ptr_check(inventory, host) -> Check:
    name = dns.reversename.from_address(host.address).to_text()
    servers = served_by(inventory, name.rstrip("."))
    if not servers:
        return Check(host.name, "PTR", True, "reverse zone not served by the fleet")
    got = ask(servers[0].address, name, "PTR")
    ehlo = smtp_greeting_name(host.address)
    ok = f"{ehlo}." in got
    return Check(host.name, "PTR matches EHLO", ok, f"PTR {', '.join(got) or 'none'}; EHLO {ehlo}")


def smtp_greeting_name(address: str) -> str:
    with smtplib.SMTP(address, 25, timeout=TIMEOUT) as smtp:
        code, text = smtp.ehlo("status.fleetfab.test")
    return text.decode().splitlines()[0].split()[0]


def alias_checks(host) -> list[Check]:
    """postmaster@ and abuse@ of every domain are accepted by port 25."""
    found = []
    with smtplib.SMTP(host.address, 25, timeout=TIMEOUT) as smtp:
        smtp.ehlo("status.fleetfab.test")
        for domain in sorted(host.settings(ROLE)["domains"]):
            for local in REQUIRED_ALIASES:
                smtp.mail("")
                code, text = smtp.rcpt(f"{local}@{domain}")
                found.append(Check(host.name, f"{local}@{domain}", code == 250, f"{code} {text.decode()}"))
                smtp.rset()
    return found


def remote_checks(remote, host) -> list[Check]:
    """What only the host itself can tell: the queue and the signer."""
    queue = remote.run("postqueue -j 2>/dev/null | wc -l", "status", "mail queue").stdout.strip()
    signer = remote.run(f"ss -Hlx | grep -cF ' {MILTER_SOCKET} ' || true", "status", "signer").stdout.strip()
    size = int(queue or 0)
    return [Check(host.name, "queue", size < QUEUE_WARNING, f"{size} message(s)"),
            Check(host.name, "DKIM signer", signer not in ("", "0"), f"listening on {MILTER_SOCKET}" if signer not in ("", "0") else "not listening")]


def all_checks(inventory, host, keys, active, remote=None) -> list[Check]:
    checks = port_checks(host) + [certificate_check(host)] + dns_checks(inventory, host, keys, active)
    checks += [ptr_check(inventory, host)] + alias_checks(host)
    return checks + (remote_checks(remote, host) if remote is not None else [])


def status(selection: str | None, json_path: str | None = None) -> int:
    from rich.table import Table

    from fleetfab.cli import exitcodes
    from fleetfab.cli.commands import consoles, load_or_explain
    from fleetfab.redact import Redactor
    from fleetfab.remote import Remote
    from fleetfab.report.jsonfile import write_report
    from fleetfab.ssh import connect
    from fleetfab.roles.mail.report import read_exports

    out, err = consoles(json_path)
    loaded = load_or_explain(err, selection)
    if loaded is None:
        return exitcodes.FAILED
    inventory, selected = loaded
    hosts = [h for h in selected if ROLE in h.roles]
    result = read_exports(inventory, hosts)
    checks: list[Check] = []
    for host in hosts:
        keys = parse_keys(_value(result.exports, host.name, "dkim_keys"))
        active = _value(result.exports, host.name, "dkim_active").strip()
        remote = Remote(host.name, connect(host, inventory.ssh), Redactor(), sudo=host.user != "root")
        try:
            checks += all_checks(inventory, host, keys, active, remote)
        finally:
            remote.close()
    table = Table(title="mail status")
    for column in ("host", "check", "", "detail"):
        table.add_column(column)
    for c in checks:
        table.add_row(c.host, c.name, "[green]ok[/]" if c.ok else "[bold red]FAIL[/]", shown(c.detail))
    out.print(table)
    if json_path:
        write_report(json_path, [asdict(c) for c in checks])
    return exitcodes.OK if all(c.ok for c in checks) else exitcodes.FAILED


def _value(book, host: str, key: str) -> str:
    from fleetfab.exports import MissingExport

    try:
        return book.get(host, ROLE, key)
    except MissingExport:
        return ""
