"""Every tunable of the bind9 role, with its documentation and defaults.

Zones are a mapping keyed by zone name, so a group or a host can add a zone
or change one zone's settings without restating the others (mappings merge
key by key across inventory layers; lists are replaced whole).
"""

from __future__ import annotations

from fleetfab.schema import Bool, Choice, Field, Int, ListOf, MapOf, Network, Record, Str
from fleetfab.roles.bind9.records import TYPES

DOMAIN = r"(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
OWNER = r"@|(\*\.)?([a-z0-9_*]([a-z0-9_-]{0,61}[a-z0-9])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?)*|\*"
FQDN = DOMAIN + r"\.?"

RECORD = Record({
    "name": Field(Str(OWNER, describe="an owner name relative to the zone, or '@'"), required=True),
    "type": Field(Choice(TYPES), required=True),
    "value": Field(Str(r"\S(.*\S)?", describe="record data"), required=True),
    "ttl": Field(Int(0, 2**31 - 1)),
})

ZONE = Record({
    "records": Field(ListOf(RECORD), doc="records written by the operator; they override derived ones of the same name and type"),
    "hosts": Field(Bool(), doc="an A/AAAA record for every inventory host, named after it"),
    "mesh": Field(Str(OWNER, describe="'@' or a subdomain label"),
                  doc="publish WireGuard mesh addresses under this name ('@': in the zone itself)"),
    "ttl": Field(Int(0, 2**31 - 1), doc="default TTL of the zone's records"),
})

REVERSE = Record({
    "domain": Field(Str(DOMAIN, describe="a forward zone of the fleet"), required=True,
                    doc="PTR records point at <host>.<domain>"),
    "records": Field(ListOf(RECORD)),
    "ttl": Field(Int(0, 2**31 - 1)),
})

SOA = Record({
    "refresh": Field(Int(60)),
    "retry": Field(Int(60)),
    "expire": Field(Int(3600)),
    "negative": Field(Int(0, 86400), doc="negative-caching TTL (the SOA minimum field)"),
})

SETTINGS = Record({
    "server": Field(Choice(("primary", "secondary")), required=True,
                    doc="this host's part: the primary holds the zone files, secondaries transfer them"),
    "hidden": Field(Bool(), doc="a primary left out of the NS records (hidden primary)"),
    "nameserver": Field(Str(FQDN, describe="a host name"),
                        doc="the name this server has in NS records; default <host>.<zone>"),
    "contact": Field(Str(r"[a-z0-9._-]+", describe="a mailbox name"), doc="SOA contact, relative to the zone"),
    "ttl": Field(Int(0, 2**31 - 1)),
    "soa": Field(SOA),
    "zones": Field(MapOf(ZONE, key=Str(DOMAIN, describe="a zone name"))),
    "reverse": Field(MapOf(REVERSE, key=Network()), doc="reverse zones, by network (octet or nibble boundaries)"),
})

DEFAULTS = {
    "hidden": False,
    "contact": "hostmaster",
    "ttl": 3600,
    "soa": {"refresh": 3600, "retry": 600, "expire": 1209600, "negative": 300},
    "zones": {},
    "reverse": {},
}
