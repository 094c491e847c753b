"""Every tunable of the edge role: the sites it terminates TLS for, and their backends."""

from __future__ import annotations

from fleetfab.schema import Field, HostPort, Int, ListOf, MapOf, Record, Str
from fleetfab.roles.certificates.settings import CERT_NAME, NAME

ROLE = "edge"

SITE = Record({
    "certificate": Field(Str(CERT_NAME, describe="a certificate name"), required=True,
                         doc="one of this host's certificates (certificates role)"),
    "names": Field(ListOf(Str(NAME, describe="a DNS name, or a wildcard *.name")),
                   doc="Host names routed to this site; default: the certificate's names"),
    "backends": Field(ListOf(HostPort()), required=True,
                      doc="inventory hosts (reached over the mesh) or addresses, with their ports"),
    "health": Field(Str(r"/[A-Za-z0-9._~!$&()*+,;=:@%/?-]*", describe="a path (no quotes, spaces, '#' or backslashes)"), doc="health check path (default /ping); a backend answering anything but 2xx/3xx is taken out"),
})

SETTINGS = Record({
    "sites": Field(MapOf(SITE, key=Str(r"[a-z0-9][a-z0-9_-]*", describe="a site name")), doc="sites by name"),
    "hsts_seconds": Field(Int(0, 63072000), doc="Strict-Transport-Security max-age"),
})

DEFAULTS = {"sites": {}, "hsts_seconds": 31536000}
