"""Trusting the fleet's ACME CA from the test runner, as a browser trusts a public one."""

from __future__ import annotations

import ssl
import urllib.request

from fleetfab.roles.acme_ca import MANAGEMENT_PORT


def ca_host(inventory):
    """The host whose ACME CA the fleet's certificates role trusts, or None (a public CA)."""
    names = {h.settings("certificates").get("trust") for h in inventory.with_role("certificates")}
    names.discard(None)
    return inventory.hosts[sorted(names)[0]] if names else None


def pebble_root(ca) -> str:
    """The root pebble made up at its start (its management API; the API's own cert is self-signed)."""
    unverified = ssl.create_default_context()
    unverified.check_hostname, unverified.verify_mode = False, ssl.CERT_NONE
    with urllib.request.urlopen(f"https://{ca.address}:{MANAGEMENT_PORT}/roots/0", context=unverified, timeout=10) as r:
        return r.read().decode()


def trusting(inventory) -> ssl.SSLContext:
    """A client context that trusts the fleet's CA and checks names, like any TLS client."""
    ca = ca_host(inventory)
    return ssl.create_default_context(cadata=pebble_root(ca)) if ca else ssl.create_default_context()
