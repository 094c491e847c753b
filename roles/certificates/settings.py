"""Every tunable of the certificates role: which certificates, from which ACME server."""

from __future__ import annotations

from fleetfab.schema import Choice, Field, Int, ListOf, MapOf, Record, Str, Url
from fleetfab.inventory.sections import HOST_NAME
from fleetfab.roles.bind9.settings import DOMAIN

ROLE = "certificates"
LETS_ENCRYPT = "https://acme-v02.api.letsencrypt.org/directory"
CERT_NAME = r"[a-z0-9][a-z0-9._-]*"
NAME = rf"(\*\.)?{DOMAIN}"
#: a systemd unit, never read as an option of systemctl
UNIT = r"[A-Za-z0-9@_:.][A-Za-z0-9@._:-]*"

CERTIFICATE = Record({
    "names": Field(ListOf(Str(NAME, describe="a DNS name, or a wildcard *.name")), required=True,
                   doc="the names it covers; each in a zone the fleet's own name servers serve"),
    "key_type": Field(Choice(("ecdsa", "rsa")), doc="the certificate's key, generated on this host"),
    "reload": Field(ListOf(Str(UNIT, describe="a systemd unit")),
                    doc="units reloaded (never restarted) after each issuance and renewal, if running"),
})

SETTINGS = Record({
    "directory": Field(Url(describe="an https URL", schemes=("https",)), doc="the ACME server's directory URL"),
    "email": Field(Str(r"[A-Za-z0-9_][A-Za-z0-9._%+-]*@" + DOMAIN, describe="an email address"),
                   doc="the ACME account's contact; none registers without one"),
    "trust": Field(Str(HOST_NAME, describe="a host name"),
                   doc="an inventory host carrying acme_ca whose API certificate certbot trusts (labs only)"),
    "renew_before_days": Field(Int(1, 89), doc="drift reports a certificate expiring within this many days"),
    "certificates": Field(MapOf(CERTIFICATE, key=Str(CERT_NAME, describe="a certificate name")),
                          doc="certificates this host requests and uses, by name"),
})

DEFAULTS = {
    "directory": LETS_ENCRYPT,
    "renew_before_days": 30,
    "certificates": {},
}

ACME_DIR = "/etc/fleetfab/acme"
LIVE_DIR = "/etc/letsencrypt/live"


def live(name: str, part: str) -> str:
    """certbot's current file of a certificate: cert, chain, fullchain or privkey."""
    return f"{LIVE_DIR}/{name}/{part}.pem"


def combined(name: str) -> str:
    """The chain and key in one file (HAProxy's form), written by the deploy hook, root's alone."""
    return f"{ACME_DIR}/{name}.pem"


def deploy_hook(name: str) -> str:
    return f"{ACME_DIR}/deploy-{name}"
