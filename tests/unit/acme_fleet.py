"""A small fleet with ACME certificates, written as an operator would, for the
certificates, edge, acme_ca and bind9 challenge-zone unit tests.

ns1 is the primary of lab.test and example.com, ns2 their secondary; ns9 is
the primary of example.org alone. edge1 terminates TLS for www (three
names, one a wildcard) with certificates from ca1's pebble, which it trusts;
mail1 has one certificate per primary and keeps the default ACME directory.
web1 is on the WireGuard mesh, app1 is not.
"""

from __future__ import annotations

from fleetfab.exports import ExportBook
from fleetfab.redact import Redactor
from fleetfab.role import RoleContext

#: the ACME key of each certificates host, made on each primary holding its names
ACME_SECRET_NS1 = "YWNtZS1rZXktb2YtZWRnZTEtbWFkZS1vbi1uczEtb2s="  # edge1's, from ns1
ACME_SECRET_NS1_MAIL1 = "YWNtZS1rZXktb2YtbWFpbDEtbWFkZS1vbi1uczEtb2s="
ACME_SECRET_NS9 = "YWNtZS1rZXktb2YtbWFpbDEtbWFkZS1vbi1uczktb2s="  # mail1's, from ns9
CA_PEM = "-----BEGIN CERTIFICATE-----\nTUlJQ2VydA==\n-----END CERTIFICATE-----\n"

INVENTORY = """
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
                  - {name: "@", type: A, value: 198.18.0.61}
      primary:
        roles: [bind9]
        vars: {bind9: {server: primary}}
      secondary:
        roles: [bind9]
        vars: {bind9: {server: secondary}}
      org_dns:
        roles: [bind9]
        vars:
          bind9:
            server: primary
            zones:
              example.org: {}
      mesh:
        roles: [wireguard]
        vars: {wireguard: {network: 100.64.0.0/24}}
      ca:
        roles: [acme_ca]
      edge:
        roles: [certificates, edge]
        vars:
          certificates:
            directory: https://198.18.0.51:14000/dir
            trust: ca1
            email: hostmaster@example.com
            certificates:
              www:
                names: [www.example.com, example.com, "*.apps.lab.test"]
                reload: [haproxy]
          edge:
            sites:
              www:
                certificate: www
                backends: ["web1:8080", "app1:8081", "198.18.0.99:8082"]
              api:
                certificate: www
                names: [api.example.com]
                backends: ["web1:9090"]
                health: /healthz
      mail:
        roles: [certificates]
        vars:
          certificates:
            renew_before_days: 20
            certificates:
              mail:
                names: [mail1.lab.test]
                reload: [postfix, dovecot]
              org:
                names: [www.example.org]
    hosts:
      ns1: {address: 198.18.0.31, groups: [primary]}
      ns2: {address: 198.18.0.32, groups: [secondary]}
      ns9: {address: 198.18.0.39, groups: [org_dns]}
      ca1: {address: 198.18.0.51, groups: [ca]}
      edge1: {address: 198.18.0.61, groups: [edge, mesh], vars: {wireguard: {address: 100.64.0.61}}}
      mail1: {address: 198.18.0.41, groups: [mail]}
      web1: {address: 198.18.0.21, groups: [mesh], vars: {wireguard: {address: 100.64.0.21}}}
      app1: {address: 198.18.0.22}
"""

EXPORTS = [
    ("ns1", "bind9", "acme_tsig.edge1", ACME_SECRET_NS1, True),
    ("ns1", "bind9", "acme_tsig.mail1", ACME_SECRET_NS1_MAIL1, True),
    ("ns9", "bind9", "acme_tsig.mail1", ACME_SECRET_NS9, True),
    ("ca1", "acme_ca", "api_cert", CA_PEM, False),
]


def book(unreadable: tuple[str, ...] = ()) -> ExportBook:
    """An ExportBook with every export above, but none of the `unreadable` hosts (which could not be read)."""
    found = ExportBook(Redactor())
    for host, role, key, value, secret in EXPORTS:
        if host not in unreadable:
            found.put(host, role, key, value, secret=secret)
    for host in unreadable:
        found.unreadable(host, "connection refused")
    return found


def context(inventory, host: str, role: str, unreadable: tuple[str, ...] = ()) -> RoleContext:
    return RoleContext(inventory, inventory.hosts[host], role, book(unreadable))


def line_in(text: str, fragment: str) -> int:
    """The line number, in the file `load` writes, of the first line holding `fragment`."""
    import textwrap

    lines = textwrap.dedent(text).lstrip("\n").splitlines()
    return next(i for i, line in enumerate(lines, 1) if fragment in line)
