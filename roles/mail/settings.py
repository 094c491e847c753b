"""Every tunable of the mail role, with its documentation and defaults.

Domains, mailboxes and aliases are mappings keyed by name, so a group or a
host can add a mailbox without restating the others. Passwords are hashes
only: a clear-text value is an inventory problem, never a file on a host.
"""

from __future__ import annotations

import re

from fleetfab.inventory.sections import HOST_NAME
from fleetfab.schema import AbsolutePath, Bool, Choice, Field, Int, ListOf, MapOf, Name, Null, OneOf, Record, Str, Url, Where
from fleetfab.roles.bind9.settings import DOMAIN

ROLE = "mail"
LOCAL_PART = r"[a-z0-9][a-z0-9._+-]*"
ADDRESS = LOCAL_PART + "@" + DOMAIN
#: what an alias may point at: a local part of its own domain, or a whole address
TARGET = rf"{LOCAL_PART}|{ADDRESS}"

#: a main.cf parameter's value: words, a number, yes/no (YAML's booleans), nothing, or a list
POSTFIX_VALUE = OneOf((Str(describe="a value on one line"), Int(), Bool(), Null(),
                       ListOf(OneOf((Str(describe="a value on one line"), Int()), describe="a word or a number"))),
                      describe="a string, a number, yes/no or a list")
#: a main.cf parameter's name
POSTFIX_PARAMETER = Name(r"[A-Za-z][A-Za-z0-9_-]*", "a Postfix parameter name")

#: schemes Dovecot 2.3 verifies that are strong enough to store, and their shape
HASH_SCHEMES = {
    "SHA512-CRYPT": r"\$6\$(rounds=\d+\$)?[./0-9A-Za-z]{1,16}\$[./0-9A-Za-z]{86}",
    "SHA256-CRYPT": r"\$5\$(rounds=\d+\$)?[./0-9A-Za-z]{1,16}\$[./0-9A-Za-z]{43}",
    "BLF-CRYPT": r"\$2[aby]\$\d\d\$[./0-9A-Za-z]{53}",
    "ARGON2ID": r"\$argon2id\$v=\d+\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+",
    "ARGON2I": r"\$argon2i\$v=\d+\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+",
}


class PasswordHash(Str):
    """A password hash in a scheme Dovecot accepts, written as {SCHEME}hash."""

    def __init__(self):
        super().__init__(describe="a password hash such as {SHA512-CRYPT}$6$...")

    def check(self, value, where: Where):
        why = hash_problem(value)
        return [where.problem(why)] if why else []


def hash_problem(value) -> str | None:
    """Why `value` is not a storable password hash, or None."""
    if not isinstance(value, str):
        return f"expected a password hash such as {{SHA512-CRYPT}}$6$..., got {type(value).__name__}"
    match = re.fullmatch(r"\{([A-Z0-9-]+)\}(.*)", value)
    bare = bare_scheme(value) if not match else None
    if bare:
        return (f"looks like a {bare} hash missing its {{{bare}}} prefix: write it as {{{bare}}}"
                f"{value[:3]}... (Dovecot needs the scheme named)")
    if not match:
        return ("looks like a clear-text password: give a hash, {SCHEME}hash "
                f"({', '.join(HASH_SCHEMES)}); `fab mail.hash-password` prints one")
    scheme, digest = match.groups()
    if scheme not in HASH_SCHEMES:
        return f"unknown or weak password scheme {{{scheme}}}; use one of {', '.join(HASH_SCHEMES)}"
    if not re.fullmatch(HASH_SCHEMES[scheme], digest):
        return f"not a well-formed {{{scheme}}} hash"
    return None


def bare_scheme(value: str) -> str | None:
    """The scheme whose hash `value` is, written without its {SCHEME} prefix (pasted from
    `openssl passwd -6` or a shadow file), or None."""
    return next((scheme for scheme, shape in HASH_SCHEMES.items() if re.fullmatch(shape, value)), None)


MAILBOX = Record({
    "password": Field(PasswordHash(), required=True, doc="the hash only, never the password (`fab mail.hash-password`)"),
})

DOMAIN_SETTINGS = Record({
    "mailboxes": Field(MapOf(MAILBOX, key=Str(LOCAL_PART, describe="a mailbox name (the local part)")),
                       doc="mailboxes by local part; each user logs in with the full address"),
    "aliases": Field(MapOf(ListOf(Str(TARGET, describe="a local part or an address")),
                           key=Str(LOCAL_PART, describe="an alias name (the local part)")),
                     doc="local part -> mailboxes or addresses it delivers to; postmaster and abuse are required"),
    "catch_all": Field(Str(TARGET, describe="a local part or an address"),
                       doc="where mail for any other local part of the domain goes"),
})

SETTINGS = Record({
    "hostname": Field(Str(DOMAIN, describe="a host name"),
                      doc="the server's name: EHLO, MX target, certificate; default <host>.<first domain>"),
    "domains": Field(MapOf(DOMAIN_SETTINGS, key=Str(DOMAIN, describe="a mail domain")), required=True,
                     doc="the virtual mail domains this host receives for"),
    "spf": Field(Str(r"v=spf1( \S+)*", describe="an SPF record"), doc="SPF TXT published for each domain"),
    "dmarc": Field(Str(r"v=DMARC1;.*", describe="a DMARC record"), doc="DMARC TXT at _dmarc.<domain>"),
    "tls_rpt": Field(OneOf((Str("mailto:" + ADDRESS, describe="a mailto: address"), Url(describe="an https URL", schemes=("https",))),
                           describe="a mailto: or https: address"),
                     doc="publish a TLS-RPT record (_smtp._tls) reporting to this address"),
    "submissions": Field(Bool(), doc="also offer implicit-TLS submission on port 465"),
    "mta_sts": Field(Record({
        "edge": Field(Str(HOST_NAME, describe="a host name"), required=True,
                      doc="the edge host serving the policy at https://mta-sts.<domain>/.well-known/mta-sts.txt"),
        "mode": Field(Choice(("enforce", "testing", "none")), doc="the policy's mode (default enforce)"),
        "max_age": Field(Int(86400, 31557600), doc="seconds senders may keep the policy (default 604800)"),
    }), doc="publish an MTA-STS policy for each domain the fleet's name servers serve"),
    "tls": Field(Record({
        "cert": Field(AbsolutePath(), required=True, doc="certificate chain (PEM) on the host"),
        "key": Field(AbsolutePath(), required=True, doc="its private key (PEM) on the host"),
    }), doc="certificate and key already on the host (an ACME role's); default: a self-signed pair generated there"),
    "postfix": Field(MapOf(POSTFIX_VALUE, key=POSTFIX_PARAMETER), doc="more main.cf parameters; postconf's own warnings refuse unknown ones"),
})

DEFAULTS = {
    "spf": "v=spf1 mx -all",
    "dmarc": "v=DMARC1; p=quarantine; adkim=s; aspf=s",
    "submissions": False,
    "postfix": {},
}

#: every domain must have these, as a mailbox or an alias (RFC 2142)
REQUIRED_ALIASES = ("postmaster", "abuse")
