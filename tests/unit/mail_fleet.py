"""A small mail fleet, written as an operator would, for the mail unit tests.

mail1 receives for example.com (a zone the fleet's name servers serve) and
example.net (served elsewhere); ns1 and ns2 serve lab.test, example.com and
the reverse zone of 198.18.0.0/24. The exports are what mail1 would publish
after its first bootstrap.
"""

from __future__ import annotations

from fleetfab.exports import ExportBook
from fleetfab.redact import Redactor
from fleetfab.release import Release
from fleetfab.role import RoleContext

ALICE_HASH = "{SHA512-CRYPT}$6$nUV567ObN6Kw8TYL$Srs8MsI3394Lhwen9.1rJ/b5XkFKHvfgYgphIDUY0tkbFCYe5fQcoNFF1fTtHWuSfbw9qHAhqoNNjSwBBC.aT/"
BOB_HASH = "{SHA512-CRYPT}$6$BAzaoYm8nQrSlTve$3GJnoBzSmevYz97.wzAJUGU7PNyThk0qSA.LdWKlM8fYZukpUGD0YuKKVrslNctiYqgnedyzBOGnJDiYVENL30"
CAROL_HASH = "{SHA512-CRYPT}$6$Go.TV7MzKHyo3wA3$WP6PMpbuPBwtrDH6lZvzXNG1.BVTGxYXa92R1dEmJT5KsNxYVHdX6xNyHWRClEiP6.6qBaWF9aWIhJaA31alz1"

INVENTORY = f"""
    groups:
      dns:
        children: [primary, secondary]
        vars:
          bind9:
            zones:
              lab.test:
                hosts: true
              example.com:
                records:
                  - {{name: www, type: CNAME, value: example.com.}}
            reverse:
              198.18.0.0/24: {{domain: lab.test}}
      primary:
        roles: [bind9]
        vars: {{bind9: {{server: primary}}}}
      secondary:
        roles: [bind9]
        vars: {{bind9: {{server: secondary}}}}
      mail:
        roles: [mail]
        vars:
          mail:
            hostname: mail1.lab.test
            domains:
              example.com:
                mailboxes:
                  alice: {{password: "{ALICE_HASH}"}}
                  bob: {{password: "{BOB_HASH}"}}
                aliases:
                  postmaster: [alice]
                  abuse: [alice]
                  info: [alice, bob]
              example.net:
                mailboxes:
                  carol: {{password: "{CAROL_HASH}"}}
                aliases:
                  postmaster: [postmaster@example.com]
                  abuse: [abuse@example.com]
                catch_all: carol
            tls_rpt: mailto:postmaster@example.com
    hosts:
      ns1: {{address: 198.18.0.31, groups: [primary]}}
      ns2: {{address: 198.18.0.32, groups: [secondary]}}
      mail1: {{address: 198.18.0.41, groups: [mail]}}
"""

#: a DKIM public key as the export carries it: base64 DER, longer than one TXT string
PUBLIC_KEY = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA" + "u3Xq9Lw0" * 43 + "IDAQAB"
EXPORTS = {"dkim_keys": f"s1 {PUBLIC_KEY}\n", "dkim_active": "s1\n"}


def book(exports: dict | None = None) -> ExportBook:
    """An ExportBook holding mail1's mail exports (none missing unless left out)."""
    found = ExportBook(Redactor())
    for key, value in (EXPORTS if exports is None else exports).items():
        found.put("mail1", "mail", key, value)
    return found


#: the releases a mail host is read as (recorded from real hosts: versions as dpkg-query prints them)
BOOKWORM = Release("debian", "12", "bookworm", {"dovecot-core": "1:2.3.19.1+dfsg1-2.1+deb12u1", "postfix": "3.7.11-0+deb12u1"})
TRIXIE = Release("debian", "13", "trixie", {"dovecot-core": "1:2.4.1+dfsg1-6+deb13u7", "postfix": "3.10.13-0+deb13u1"})


def context(inventory, host: str = "mail1", exports: dict | None = None, release: Release = BOOKWORM) -> RoleContext:
    """`host`'s context: mail1's for the mail role, a name server's for bind9."""
    role = "mail" if inventory.hosts[host].has_role("mail") else "bind9"
    return RoleContext(inventory, inventory.hosts[host], role, book(exports), release=release)


def line_in(text: str, fragment: str) -> int:
    """The line number, in the file `load` writes, of the first line holding `fragment`."""
    import textwrap

    lines = textwrap.dedent(text).lstrip("\n").splitlines()
    return next(i for i, line in enumerate(lines, 1) if fragment in line)
