"""The edge role: TLS termination in front of the cluster, by HAProxy from Debian.

HAProxy rather than nginx: its health checks are active (a GET of each
backend's health path every two seconds, nginx's free edition only notices
failures in live traffic), and its reload hands the listening sockets to
the new process, so a reload for a renewed certificate drops nothing.

Each site names its certificate (from the certificates role on the same
host, which writes chain and key into one file for HAProxy) and its
backends, reached over the WireGuard mesh where they are members. Port 80
only redirects to HTTPS; HTTPS is TLS 1.2 and newer with forward-secret
AEAD ciphers, HSTS, no session tickets. The configuration is checked with
`haproxy -c` before every reload.
"""

from __future__ import annotations

from fleetfab.resources import Directory, File, Packages, Service
from fleetfab.role import Role, settings_problem
from fleetfab.roles.bind9.mesh import mesh_address
from fleetfab.roles.certificates.settings import ROLE as CERTIFICATES, combined
from fleetfab.roles.certificates.served import ServedCertificate
from fleetfab.roles.mail import mtasts
from fleetfab.roles.edge.settings import DEFAULTS, ROLE, SETTINGS

CONFIG = "/etc/haproxy/haproxy.cfg"
POLICY_DIR = "/etc/haproxy/mta-sts"


def policy_file(domain: str) -> str:
    return f"{POLICY_DIR}/{domain}.txt"
RELOAD = "reload haproxy"


def backend_address(inventory, target: str) -> tuple[str, str]:
    """(name, address:port) of a backend given as `host:port` (an inventory host) or `address:port`."""
    name, _, port = target.rpartition(":")
    host = inventory.hosts.get(name)
    if host is None:
        return name.replace(".", "_").replace("[", "").replace("]", ""), target
    address = mesh_address(host) or host.address
    return host.name, f"{address}:{port}"


def sites_of(ctx) -> list[dict]:
    sites = []
    for name, spec in sorted(ctx.settings["sites"].items()):
        names = spec.get("names") or ctx.host.settings(CERTIFICATES)["certificates"][spec["certificate"]]["names"]
        sites.append({
            "name": name,
            "hosts": [n for n in names if not n.startswith("*.")],
            "wildcards": [n[1:] for n in names if n.startswith("*.")],
            "certificate": combined(spec["certificate"]),
            "health": spec.get("health") or "/ping",
            "servers": [backend_address(ctx.inventory, b) for b in spec["backends"]],
        })
    return sites


class Edge(Role):
    name = ROLE
    after = ("base", "wireguard", "certificates")
    settings = SETTINGS
    defaults = DEFAULTS

    def check(self, inventory):
        for host in inventory.with_role(ROLE):
            certs = host.settings(CERTIFICATES).get("certificates", {}) if CERTIFICATES in host.roles else {}
            for site, spec in host.settings(ROLE)["sites"].items():
                if spec["certificate"] not in certs:
                    yield settings_problem(inventory, host, ROLE, "sites",
                                           f"site {site}: certificate {spec['certificate']!r} is not one of this host's "
                                           "certificates (certificates.certificates)")
                for backend in spec["backends"]:
                    name, _, port = backend.rpartition(":")
                    if not port.isdigit() or not name:
                        yield settings_problem(inventory, host, ROLE, "sites", f"site {site}: backend {backend!r} is not host:port")

    def resources(self, ctx):
        sites = sites_of(ctx)
        policies = mtasts.served_by(ctx.inventory, ctx.host)
        yield Packages(("haproxy", "openssl"))
        if policies:
            yield Directory(POLICY_DIR)
        for domain, text in policies.items():
            yield File(policy_file(domain), text, notify=RELOAD)
        # Every certificate of the host is offered; SNI picks the one for the name asked.
        certificates = [combined(n) for n in sorted(ctx.host.settings(CERTIFICATES).get("certificates") or {})] \
            if CERTIFICATES in ctx.host.roles else []
        policy_sites = [{"name": d.replace(".", "_").replace("-", "_"), "host": mtasts.policy_host_name(d),
                         "file": policy_file(d), "path": mtasts.PATH} for d in policies]
        yield File(CONFIG, ctx.template("edge/haproxy.cfg.j2", sites=sites, hsts=ctx.settings["hsts_seconds"],
                                        certificates=certificates, policies=policy_sites),
                   validate="haproxy -c -q -f %s", notify=RELOAD)
        yield Service("haproxy")
        for site in sites:
            for name in site["hosts"][:1]:
                yield ServedCertificate(443, name, site["certificate"], notify=RELOAD)

    def health(self, ctx):
        from fleetfab.roles.edge.health import checks

        return checks(ctx)

    def down_together(self, members):
        """Never every edge host at once: the sites stay served."""
        return max(1, members - 1)

    def handlers(self, ctx):
        return {RELOAD: "systemctl reload haproxy"}
