"""The acme_ca role: a real ACME server for labs, Let's Encrypt's test CA (pebble, from Debian).

It stands in for the public CA where the public CA cannot reach: it asks
the fleet's own primary name server for DNS-01 tokens (`-dnsserver`), issues
from a root it makes up at each start (tests fetch it from the management
port, 15000), and serves its API on 14000 with a certificate generated on
its host, which the certificates role's `trust` setting makes certbot
accept. Never for production: pebble forgets everything when it stops.
"""

from __future__ import annotations

import ipaddress

from fleetfab import shapes
from fleetfab.resources import Command, Directory, File, Packages, Service
from fleetfab.role import Export, Role
from fleetfab.schema import Field, HostPort, Record
from fleetfab.shell import q
from fleetfab.roles.bind9.fleet import is_primary

ROLE = "acme_ca"
DIR = "/etc/fleetfab/pebble"
API_CERT, API_KEY = f"{DIR}/api.crt", f"{DIR}/api.key"
CONFIG = f"{DIR}/pebble-config.json"
UNIT = "/etc/systemd/system/fleetfab-pebble.service"
SERVICE = "fleetfab-pebble"
API_PORT, MANAGEMENT_PORT = 14000, 15000
RESTART = "restart pebble"


def directory_url(host) -> str:
    address = host.address if ipaddress.ip_address(host.address).version == 4 else f"[{host.address}]"
    return f"https://{address}:{API_PORT}/dir"


def dns_server(inventory, host) -> str:
    given = host.settings(ROLE).get("dns_server")
    if given:
        return given
    primaries = [h for h in inventory.with_role("bind9") if is_primary(h)]
    if not primaries:
        return "127.0.0.1:53"
    address = primaries[0].address
    return f"[{address}]:53" if ipaddress.ip_address(address).version == 6 else f"{address}:53"


def restart_if_older() -> str:
    newest = f"stat -c %Y {q(CONFIG)} {q(UNIT)} {q(API_CERT)} | sort -n | tail -n 1"
    started = f"date -d \"$(systemctl show -p ActiveEnterTimestamp --value {SERVICE})\" +%s"
    return "\n".join([
        "systemctl daemon-reload",
        f"if ! systemctl is-active --quiet {SERVICE} || [ \"$({started} 2>/dev/null || echo 0)\" -lt \"$({newest})\" ]; then",
        f"  systemctl restart {SERVICE}",
        "fi",
    ])


class AcmeCa(Role):
    name = ROLE
    after = ("base",)
    settings = Record({
        "dns_server": Field(HostPort(describe="address:port (no IPv6 zone: it is on a systemd command line)", zones=False),
                            doc="where pebble asks for DNS-01 tokens; default: the fleet's first primary, port 53"),
    })

    def prepare(self, ctx):
        yield Packages(("pebble", "openssl"))
        yield Directory(DIR, mode="0755")
        yield Command("generate pebble's API certificate", run=self._api_cert(ctx), creates=API_KEY, notify=RESTART)

    def exports(self, ctx):
        return {"api_cert": Export(f"cat {q(API_CERT)}", shape=shapes.PEM_CERTIFICATES)}

    def resources(self, ctx):
        yield File(CONFIG, self._config(), notify=RESTART)
        yield File(UNIT, self._unit(ctx), notify=RESTART)
        yield Service(SERVICE)

    def handlers(self, ctx):
        # pebble keeps everything in memory and reads its settings once: a
        # change of them can only take effect through a restart.
        # Only if it runs settings older than its files: a pebble this run has
        # just started already read them, and a restart would give it a new
        # root after the fleet's clients were issued certificates from the old.
        return {RESTART: restart_if_older()}

    def _api_cert(self, ctx) -> str:
        san = f"IP:{ctx.host.address},DNS:{ctx.host.name}"
        return (f"set -e\numask 077\nopenssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=pebble "
                f"-addext {q('subjectAltName=' + san)} -keyout {q(API_KEY)} -out {q(API_CERT)} 2>/dev/null\n"
                f"chmod 644 {q(API_CERT)}\n")

    def _config(self) -> str:
        return ('{\n  "pebble": {\n'
                f'    "listenAddress": "0.0.0.0:{API_PORT}",\n'
                f'    "managementListenAddress": "0.0.0.0:{MANAGEMENT_PORT}",\n'
                f'    "certificate": "{API_CERT}",\n    "privateKey": "{API_KEY}",\n'
                '    "httpPort": 5002,\n    "tlsPort": 5001,\n    "ocspResponderURL": "",\n'
                '    "externalAccountBindingRequired": false\n  }\n}\n')

    def _unit(self, ctx) -> str:
        return ("# Written by fleetfab (acme_ca role): a test ACME CA for the lab.\n"
                "[Unit]\nDescription=pebble, a test ACME server (lab only)\nAfter=network-online.target\n\n"
                "[Service]\nEnvironment=PEBBLE_VA_NOSLEEP=1\n"
                # pebble refuses 5% of nonces on purpose to test clients; certbot 2.1 gives up
                # on one, which failed a lab renewal at random: the lab wants repeatable runs.
                "Environment=PEBBLE_WFE_NONCEREJECT=0\n"
                f"ExecStart=/usr/bin/pebble -config {CONFIG} -dnsserver {dns_server(ctx.inventory, ctx.host)}\n"
                "Restart=on-failure\n\n[Install]\nWantedBy=multi-user.target\n")
