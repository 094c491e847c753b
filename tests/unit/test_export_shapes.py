"""A host's exported values are data of a strict shape, or refused before any peer uses them."""

from __future__ import annotations

import base64
import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

from fleetfab import shapes
from fleetfab.exports import ExportBook, MissingExport
from fleetfab.memory import ExportMemory, Remembered
from fleetfab.redact import Redactor

WG_KEY = "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA="
INJECTED = f"{WG_KEY}\n[Interface]\nPostUp = touch /tmp/x"


def ed25519_line(comment: str = "fleetfab@vmhost1") -> str:
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    text = key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    return f"{text} {comment}".rstrip()


def certificate_pem(name: str = "pebble") -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime(2026, 12, 1, tzinfo=datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def dkim_public_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


# -- WireGuard ------------------------------------------------------------------


def test_a_wireguard_public_key_fits_its_shape():
    assert shapes.WIREGUARD_KEY.refusal(WG_KEY) is None


def test_a_wireguard_key_followed_by_configuration_lines_is_refused():
    assert shapes.WIREGUARD_KEY.refusal(INJECTED) == "3 lines, expected one a WireGuard public key"


def test_a_wireguard_key_of_the_wrong_length_is_refused():
    assert shapes.WIREGUARD_KEY.refusal(WG_KEY[1:]) == "not a WireGuard public key"


# -- SSH public keys ----------------------------------------------------------------


def test_an_ssh_public_key_line_with_a_comment_fits_its_shape():
    assert shapes.SSH_PUBLIC_KEY.refusal(ed25519_line()) is None


def test_an_ssh_key_line_with_options_in_front_is_refused():
    line = 'command="/bin/sh",no-pty ' + ed25519_line()
    assert "does not start with a key type" in shapes.SSH_PUBLIC_KEY.refusal(line)


def test_a_second_unrestricted_key_line_is_refused():
    assert shapes.SSH_PUBLIC_KEY.refusal(ed25519_line() + "\n" + ed25519_line()) == "2 lines, expected one SSH public key"


def test_an_ssh_key_whose_blob_is_not_a_key_is_refused():
    assert "does not decode" in shapes.SSH_PUBLIC_KEY.refusal("ssh-ed25519 " + base64.b64encode(b"nonsense").decode())


def test_an_ssh_key_labelled_with_another_type_is_refused():
    kind, blob, _ = ed25519_line().split(" ")
    assert shapes.SSH_PUBLIC_KEY.refusal(f"ssh-rsa {blob}") is not None


def test_an_rsa_key_line_without_a_comment_fits_its_shape():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    line = key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    assert shapes.SSH_PUBLIC_KEY.refusal(line) is None


# -- TSIG secrets ---------------------------------------------------------------------


def test_a_tsig_secret_of_the_hash_length_fits_its_shape():
    assert shapes.tsig_secret(32, "hmac-sha256").refusal(base64.b64encode(bytes(32)).decode()) is None


def test_a_tsig_secret_of_another_length_is_refused_without_repeating_it():
    secret = base64.b64encode(bytes(16)).decode()
    refusal = shapes.tsig_secret(32, "hmac-sha256").refusal(secret)
    assert refusal == "not an hmac-sha256 TSIG secret (32 bytes in base64)"
    assert secret not in refusal


def test_a_tsig_secret_with_a_quote_and_more_configuration_is_refused():
    secret = base64.b64encode(bytes(32)).decode()
    assert shapes.tsig_secret(32, "hmac-sha256").refusal(secret + '"; }; include "/etc/shadow') is not None


# -- certificates and DKIM -------------------------------------------------------------


def test_pem_certificates_fit_their_shape():
    assert shapes.PEM_CERTIFICATES.refusal(certificate_pem() + certificate_pem("intermediate")) is None


def test_text_beside_a_certificate_is_refused():
    assert "outside a certificate block" in shapes.PEM_CERTIFICATES.refusal(certificate_pem() + "extra = 1\n")


def test_a_block_that_is_not_a_certificate_is_refused():
    fake = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
    assert "does not load" in shapes.PEM_CERTIFICATES.refusal(fake)


def test_a_dkim_key_listing_fits_its_shape():
    assert shapes.DKIM_KEYS.refusal(f"s20261201000000 {dkim_public_key()}\ns20261202000000 {dkim_public_key()}") is None


def test_a_dkim_listing_with_a_record_injected_is_refused():
    listing = f"s20261201000000 {dkim_public_key()}; t=y\" ; evil IN A 198.18.0.99"
    assert shapes.DKIM_KEYS.refusal(listing) is not None


def test_control_characters_are_refused_in_every_shape():
    assert shapes.LINE.refusal("text\x1b[2J") == "not one line of printable text: it holds control characters"


def test_an_answer_longer_than_any_export_is_refused():
    assert "more than any" in shapes.LINE.refusal("a" * (shapes.MAX_LENGTH + 1))


# -- the export book ------------------------------------------------------------------------

SHAPES = {("wireguard", "public_key"): shapes.WIREGUARD_KEY}


def test_a_refused_value_blocks_its_consumers_naming_the_publishing_host_and_why():
    book = ExportBook(Redactor(), shapes=SHAPES)
    assert book.put("worker1", "wireguard", "public_key", INJECTED) is not None
    with pytest.raises(MissingExport) as refused:
        book.lookup("worker1", "wireguard", "public_key")
    assert "worker1 answered a value that was refused: 3 lines" in str(refused.value)
    assert "PostUp" not in str(refused.value)


def test_a_refused_value_is_never_remembered(tmp_path):
    memory = ExportMemory(tmp_path / "m.json")
    book = ExportBook(Redactor(), memory=memory, shapes=SHAPES)
    book.put("worker1", "wireguard", "public_key", INJECTED)
    book.remember_fresh({"worker1"})
    assert memory.recall("worker1", "wireguard", "public_key") is None


def test_a_refused_value_does_not_fall_back_to_the_remembered_one(tmp_path):
    memory = ExportMemory(tmp_path / "m.json", {("worker1", "wireguard", "public_key"): Remembered(WG_KEY, "2026-11-30T10:00:00Z")})
    book = ExportBook(Redactor(), memory=memory, shapes=SHAPES)
    book.put("worker1", "wireguard", "public_key", INJECTED)
    with pytest.raises(MissingExport, match="refused"):
        book.lookup("worker1", "wireguard", "public_key")


def test_a_remembered_value_that_does_not_fit_is_refused_on_recall(tmp_path):
    """The controller's memory file is checked like the host's answer: it may have been edited."""
    memory = ExportMemory(tmp_path / "m.json", {("worker1", "wireguard", "public_key"): Remembered(INJECTED, "2026-11-30T10:00:00Z")})
    book = ExportBook(Redactor(), memory=memory, shapes=SHAPES)
    book.unreadable("worker1", "connection refused")
    with pytest.raises(MissingExport, match="the value remembered from 2026-11-30T10:00:00Z was refused: 3 lines"):
        book.lookup("worker1", "wireguard", "public_key")


def test_a_refused_secret_is_still_redacted():
    redactor = Redactor()
    book = ExportBook(redactor, shapes={("bind9", "tsig"): shapes.tsig_secret(32, "hmac-sha256")})
    book.put("ns1", "bind9", "tsig", "c2VjcmV0LXRleHQ=", secret=True)
    assert "c2VjcmV0LXRleHQ=" not in redactor("key c2VjcmV0LXRleHQ=")
