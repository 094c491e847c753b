"""Secrets are replaced wherever text leaves the engine: logs, plans, diffs, JSON.

Two kinds are masked. Values registered in this run (secret exports, a
secret resource's content) are replaced wherever they occur. Password
hashes are masked by their shape, registered or not: a hash is as good as
the password to an offline guesser, and it reaches reports through files
that are not secret as a whole (the ops host's copy of the inventory) and
from hosts' old files (the `-` side of a diff), which no run registers.
"""

from __future__ import annotations

import re
import threading

MASK = "<redacted>"
#: shorter values would mask ordinary words; no real secret is this short
MIN_SECRET = 8

#: Dovecot's password schemes, as its `{SCHEME}` prefix names them (with an optional .b64/.hex encoding)
_SCHEMES = ("ARGON2ID", "ARGON2I", "BLF-CRYPT", "SHA512-CRYPT", "SHA256-CRYPT", "MD5-CRYPT", "CRYPT", "PBKDF2",
            "SCRAM-SHA-256", "SCRAM-SHA-1", "SSHA512", "SSHA256", "SSHA", "SHA512", "SHA256", "SHA1", "SHA", "SMD5",
            "PLAIN-MD5", "LDAP-MD5", "CRAM-MD5", "DIGEST-MD5", "MD5", "NTLM", "LANMAN", "OTP", "PLAIN", "CLEARTEXT")
_B64 = r"[./0-9A-Za-z]"
#: crypt(3) forms: MD5, SHA-256/512 (with rounds), bcrypt, yescrypt, scrypt, Argon2
_CRYPT = "|".join((
    rf"\$[156]\$(rounds=\d+\$)?{_B64}{{1,16}}\${_B64}{{22,}}",
    rf"\$2[abxy]\$\d\d\${_B64}{{53}}",
    rf"\$g?y\${_B64}+\${_B64}{{1,86}}\${_B64}{{43}}",
    rf"\$7\${_B64}{{11,}}\${_B64}{{43}}",
    r"\$argon2(id|i|d)\$v=\d+\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+",
))
PASSWORD_HASH = re.compile(
    r"\{(" + "|".join(re.escape(s) for s in _SCHEMES) + r")(\.[A-Za-z0-9]+)?\}[^\s'\":{}]+"
    r"|(?<![A-Za-z0-9./$])(" + _CRYPT + r")(?![./0-9A-Za-z])")


def mask_password_hashes(text: str) -> str:
    """`text` with every password hash (Dovecot `{SCHEME}...` or crypt `$id$...`) masked."""
    return PASSWORD_HASH.sub(MASK, text)


class Redactor:
    def __init__(self):
        self._secrets: set[str] = set()
        self._lock = threading.Lock()

    def add(self, *values: str) -> None:
        with self._lock:
            for value in values:
                for piece in [value, *value.splitlines()]:
                    if len(piece.strip()) >= MIN_SECRET:
                        self._secrets.add(piece.strip())

    def __call__(self, text: str) -> str:
        if not text:
            return text
        with self._lock:
            secrets = sorted(self._secrets, key=len, reverse=True)
        for secret in secrets:
            text = text.replace(secret, MASK)
        return mask_password_hashes(text)
