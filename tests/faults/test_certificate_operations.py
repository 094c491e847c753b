"""Certificates under an operator's hands: a renewal reaches the services without a restart."""

from __future__ import annotations

import socket
import ssl
import time

from cryptography import x509

from fleetfab.roles.certificates import TRUSTED_CA
from fleetfab.roles.mail.releases import postfix_unit_on

SERVE_WAIT = 15


def served_serial(address: str, port: int, name: str, starttls: bool = False) -> int:
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    with socket.create_connection((address, port), timeout=10) as raw:
        if starttls:
            raw.recv(1024)
            raw.sendall(b"EHLO tester.fleetfab.test\r\n")
            raw.recv(4096)
            raw.sendall(b"STARTTLS\r\n")
            raw.recv(1024)
        with context.wrap_socket(raw, server_hostname=name) as tls:
            return x509.load_der_x509_certificate(tls.getpeercert(binary_form=True)).serial_number


def main_pid(lab, host: str, unit: str) -> str:
    return lab.sh(host, f"systemctl show -p MainPID --value {unit}").strip()


def force_renewal(lab, host: str, certificate: str) -> None:
    lab.sh(host, f"REQUESTS_CA_BUNDLE={TRUSTED_CA} certbot renew --non-interactive --no-random-sleep-on-renew "
                 f"--force-renewal --cert-name {certificate} -q")


def new_serial_within(before: int, read) -> int:
    deadline = time.monotonic() + SERVE_WAIT
    serial = read()
    while serial == before and time.monotonic() < deadline:
        time.sleep(1)
        serial = read()
    return serial


def test_a_forced_renewal_is_served_by_haproxy_without_a_restart(lab):
    address = lab.inventory.hosts["edge1"].address
    read = lambda: served_serial(address, 443, "www.example.com")  # noqa: E731
    before, pid = read(), main_pid(lab, "edge1", "haproxy")
    force_renewal(lab, "edge1", "www")
    assert new_serial_within(before, read) != before
    assert main_pid(lab, "edge1", "haproxy") == pid


def test_a_forced_renewal_is_served_by_postfix_and_dovecot_without_a_restart(lab):
    address = lab.inventory.hosts["mail1"].address
    imaps = lambda: served_serial(address, 993, "mail1.lab.test")  # noqa: E731
    submission = lambda: served_serial(address, 587, "mail1.lab.test", starttls=True)  # noqa: E731
    before = (imaps(), submission())
    postfix = postfix_unit_on(lab.sh("mail1", ". /etc/os-release; echo $VERSION_CODENAME").strip())
    pids = (main_pid(lab, "mail1", postfix), main_pid(lab, "mail1", "dovecot"))
    force_renewal(lab, "mail1", "mail")
    assert new_serial_within(before[0], imaps) != before[0]
    assert new_serial_within(before[1], submission) != before[1]
    assert (main_pid(lab, "mail1", postfix), main_pid(lab, "mail1", "dovecot")) == pids


def test_a_bootstrap_does_not_reissue_valid_certificates(lab):
    code, run = lab.fab("-H", "edge1,mail1", "bootstrap")
    changes = [c for h in run.document()["hosts"].values() for c in h["changes"]]
    assert code == 0 and not [c for c in changes if c["resource"].startswith("certificate ")], run.output
