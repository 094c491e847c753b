"""The strict shapes a host's exported values must have before another host uses them.

An export is what one host prints for another host's configuration (a
WireGuard public key for a peer's wg0.conf, an SSH key for every host's
authorized_keys). A compromised host can print anything: extra lines that
become a `PostUp` hook, a second key line without restrictions. So a value
is data only once it fits the shape of its kind exactly; anything else is
refused with a reason that never repeats the value itself (it may be a
secret, or carry terminal escapes).
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Callable

import paramiko
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_der_public_key

#: no export is larger than this: a bundle of a few certificates at most
MAX_LENGTH = 64 * 1024


@dataclass(frozen=True)
class Shape:
    """A named check: `refusal(value)` is None for a value of this shape, else why not."""

    name: str
    check: Callable[[str], str | None]

    def refusal(self, value: str) -> str | None:
        if len(value) > MAX_LENGTH:
            return f"{len(value)} characters, more than any {self.name} ({MAX_LENGTH})"
        if _controls(value, allow_newlines=True):
            return f"not {self.name}: it holds control characters"
        return self.check(value)


def _controls(text: str, allow_newlines: bool) -> bool:
    allowed = "\n" if allow_newlines else ""
    return any((ord(c) < 32 and c not in allowed) or ord(c) == 127 for c in text)


def _one_line(what: str, value: str) -> str | None:
    count = len(value.splitlines())
    return None if count == 1 else f"{count} lines, expected one {what}"


def matching(name: str, pattern: str) -> Shape:
    """One line matching `pattern` in full."""
    compiled = re.compile(pattern)

    def check(value: str) -> str | None:
        return _one_line(name, value) or (None if compiled.fullmatch(value) else f"not {name}")

    return Shape(name, check)


def _base64_bytes(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


#: one printable line of text, no longer than a long configuration line
LINE = matching("one line of printable text", r"[\x20-\x7e]{1,4096}")

#: a Curve25519 key in base64: 43 characters and '=', the last one carrying only 4 bits
WIREGUARD_KEY = matching("a WireGuard public key", r"[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=")

#: a DKIM selector as fleetfab names them, or any DNS label an operator chose
DKIM_SELECTOR = matching("a DKIM selector", r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")

SSH_KEY_TYPES = ("ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
                 "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com")


def _ssh_public_key(value: str) -> str | None:
    """`<type> <base64 blob> [comment]`: no options, a blob that is a key of that type."""
    if problem := _one_line("SSH public key", value):
        return problem
    kind, _, rest = value.partition(" ")
    blob, _, comment = rest.partition(" ")
    if kind not in SSH_KEY_TYPES:
        return "not an SSH public key line: it does not start with a key type (options are not allowed)"
    data = _base64_bytes(blob)
    if data is None:
        return f"not an SSH public key: its {kind} key is not base64"
    try:
        key = paramiko.PKey.from_type_string(kind, data)
    except Exception:  # paramiko raises several kinds for a malformed blob
        return f"not an SSH public key: its {kind} key does not decode"
    if key.get_name() != kind and not kind.startswith("sk-"):
        return f"not an SSH public key: a {key.get_name()} key labelled {kind}"
    if not re.fullmatch(r"[\x21-\x7e]*( [\x21-\x7e]+)*", comment):
        return "not an SSH public key: its comment is not plain printable text"
    return None


SSH_PUBLIC_KEY = Shape("an SSH public key", _ssh_public_key)


def tsig_secret(digest_bytes: int, algorithm: str) -> Shape:
    """A TSIG secret as tsig-keygen makes it: base64 of exactly the hash's length."""
    name = f"an {algorithm} TSIG secret"

    def check(value: str) -> str | None:
        if problem := _one_line(name, value):
            return problem
        data = _base64_bytes(value)
        if data is None or len(data) != digest_bytes:
            return f"not {name} ({digest_bytes} bytes in base64)"
        return None

    return Shape(name, check)


PEM_BLOCK = re.compile(r"-----BEGIN CERTIFICATE-----\n([A-Za-z0-9+/=\n]+)-----END CERTIFICATE-----\n?")


def _pem_certificates(value: str) -> str | None:
    """One or more PEM certificates and nothing else, each one a certificate X.509 can load."""
    text = value.strip("\n") + "\n"
    blocks, at = [], 0
    while at < len(text):
        found = PEM_BLOCK.match(text, at)
        if found is None:
            return "not PEM certificates: it holds text outside a certificate block"
        blocks.append(found.group(0))
        at = found.end()
        while at < len(text) and text[at] == "\n":
            at += 1
    if not blocks:
        return "not PEM certificates: no certificate block"
    for block in blocks:
        try:
            x509.load_pem_x509_certificate(block.encode())
        except ValueError:
            return "not PEM certificates: a block does not load as an X.509 certificate"
    return None


PEM_CERTIFICATES = Shape("PEM certificates", _pem_certificates)


def _dkim_keys(value: str) -> str | None:
    """Lines of `<selector> <base64 DER RSA public key>`, as mail's key listing prints them."""
    for number, line in enumerate(value.splitlines(), 1):
        parts = line.split(" ")
        if len(parts) != 2 or DKIM_SELECTOR.refusal(parts[0]):
            return f"not a DKIM key listing: line {number} is not '<selector> <key>'"
        data = _base64_bytes(parts[1])
        try:
            key = load_der_public_key(data) if data else None
        except ValueError:
            key = None
        if not isinstance(key, rsa.RSAPublicKey):
            return f"not a DKIM key listing: line {number}'s key is not an RSA public key"
    return None


DKIM_KEYS = Shape("DKIM public keys", _dkim_keys)


def lines_matching(name: str, pattern: str, header: str | None = None) -> Shape:
    """Several lines, each matching `pattern`, after an optional exact `header` line."""
    compiled = re.compile(pattern)

    def check(value: str) -> str | None:
        rows = value.splitlines()
        if header is not None:
            if not rows or rows[0] != header:
                return f"not {name}: its first line is not {header!r}"
            rows = rows[1:]
        for number, row in enumerate(rows, 2 if header is not None else 1):
            if not compiled.fullmatch(row):
                return f"not {name}: line {number} does not fit"
        return None

    return Shape(name, check)
