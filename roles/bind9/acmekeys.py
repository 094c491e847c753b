"""ACME keys: one per certificates host, made on the primary, good for that host's names only.

A single key shared by every certificates host would let any of them (a
compromised mail host) answer the challenges of every other host's names,
and so obtain their certificates. So the primary makes one TSIG key per
certificates host whose names it holds challenge zones for; each challenge
zone grants only the keys of the hosts that certify its name, and only the
TXT records at that name (named's `update-policy`). The secret leaves the
primary only as a secret export that the certificates host alone reads.

A host whose names are gone from the inventory (or the host itself) loses
its key: the primary stops including and granting it, then deletes it.
"""

from __future__ import annotations

from fleetfab.resources import Command
from fleetfab.shell import q

#: root's and bind's only, apart from the transfer keys
ACME_KEY_DIR = "/etc/bind/fleetfab-acme-keys"
#: where earlier versions kept the one ACME key shared by every certificates host
LEGACY_KEY = "/etc/bind/fleetfab-keys/fleetfab-acme-{primary}.key"
EXPORT_PREFIX = "acme_tsig."


def acme_key_name(client: str) -> str:
    """The TSIG key of certificates host `client`.

    The dot keeps it apart from every transfer key (`fleetfab-<primary>`,
    host names having none).
    """
    return f"fleetfab-acme.{client}"


def acme_key_file(client: str) -> str:
    return f"{ACME_KEY_DIR}/{acme_key_name(client)}.key"


def acme_export(client: str) -> str:
    """The primary's export that carries `client`'s key (secret: read by that host alone)."""
    return EXPORT_PREFIX + client


def grants(challenge) -> list[str]:
    """named's update-policy rules for a challenge zone: its clients' keys, TXT at its name only."""
    return [f"grant {acme_key_name(c)} name {challenge.name}. TXT;" for c in challenge.clients]


def forget_stale_keys(clients: list[str], primary: str, local: str) -> Command:
    """Delete the ACME keys of hosts no longer certifying names here (and the old shared key).

    Runs after named.conf.local stopped including them; a key that file
    still names is left until it does not, so named never loses a file it
    reads.
    """
    keep = " ".join(acme_key_file(c) for c in clients)
    stale = (f"keep=' {keep} '; for f in {q(ACME_KEY_DIR)}/*.key {q(LEGACY_KEY.format(primary=primary))}; do "
             '[ -f "$f" ] || continue; case "$keep" in *" $f "*) ;; *) echo "$f";; esac; done')
    run = f'for f in $({stale}); do grep -qF "\\"$f\\"" {q(local)} || rm -f -- "$f"; done'
    return Command("forget the ACME keys of hosts that no longer certify names here", run=run,
                   unless=f'[ -z "$({stale})" ]')
