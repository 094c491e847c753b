"""The certificates role: ACME certificates, proven by DNS-01 through the fleet's own primary.

Every name a host's certificates cover lies in a zone the fleet serves, so
the host answers the ACME challenge itself: certbot's rfc2136 plugin writes
the token into the name's challenge zone on the primary (roles/bind9/
challenges.py) with this host's own ACME key, made on the primary, which may
change the TXT records of this host's names there and nothing else
(roles/bind9/acmekeys.py). No HTTP port, no DNS provider API, and wildcards
work.

resources certbot and its rfc2136 plugin; this host's ACME key from the
          primary (a secret export only this host reads, kept as the host has
          it while the primary cannot be read); a deploy hook per certificate;
          each certificate issued once and renewed only when due; certbot's
          timer
zones     a challenge zone for each name (bind9 serves them)
"""

from __future__ import annotations

from fleetfab.dns import holding_zone
from fleetfab.resources import Directory, File, Packages, Service
from fleetfab.role import Role, needs_exports, settings_problem
from fleetfab.shell import cmd, q
from fleetfab.roles.bind9.challenges import challenge_name
from fleetfab.roles.bind9.fleet import fleet_zones
from fleetfab.roles.certificates.certificate import Certificate
from fleetfab.roles.certificates.settings import ACME_DIR, DEFAULTS, ROLE, SETTINGS, combined, deploy_hook, live

PACKAGES = ("certbot", "python3-certbot-dns-rfc2136", "openssl", "bind9-dnsutils")
TRUSTED_CA = f"{ACME_DIR}/ca.pem"
TIMER_DROP_IN = "/etc/systemd/system/certbot.service.d/fleetfab.conf"
DAEMON_RELOAD = "reload systemd"
#: seconds certbot waits after writing a token: the primary answers at once
PROPAGATION = 2


def credentials_path(primary) -> str:
    return f"{ACME_DIR}/rfc2136-{primary.name}.ini"


def primary_of(inventory, names) -> object | None:
    """The one primary holding every challenge zone of a certificate, or None."""
    zones = fleet_zones(inventory)
    found = {zones[z].primary.name: zones[z].primary
             for z in (holding_zone(challenge_name(n), zones) for n in names) if z}
    return next(iter(found.values())) if len(found) == 1 else None


class Certificates(Role):
    name = ROLE
    after = ("base", "bind9")
    settings = SETTINGS
    defaults = DEFAULTS

    def check(self, inventory):
        zones = fleet_zones(inventory)
        for host in inventory.with_role(ROLE):
            for cert, spec in host.settings(ROLE)["certificates"].items():
                outside = [n for n in spec["names"] if holding_zone(challenge_name(n), zones) is None]
                if outside:
                    yield settings_problem(inventory, host, ROLE, "certificates",
                                           f"{cert}: {', '.join(outside)} in no zone the fleet serves: "
                                           "DNS-01 through fleetfab needs the fleet's own name servers")
                elif primary_of(inventory, spec["names"]) is None:
                    yield settings_problem(inventory, host, ROLE, "certificates",
                                           f"{cert}: its names lie in zones of different primaries; split it in two")
            trust = host.settings(ROLE).get("trust")
            if trust and ("acme_ca" not in getattr(inventory.hosts.get(trust), "roles", ())):
                yield settings_problem(inventory, host, ROLE, "trust", f"{trust} is no host carrying the acme_ca role")

    def dynamic_zones(self, inventory):
        return [(host.name, n) for host in inventory.with_role(ROLE)
                for spec in host.settings(ROLE)["certificates"].values() for n in spec["names"]]

    def resources(self, ctx):
        s = ctx.settings
        yield Packages(PACKAGES)
        yield Directory(ACME_DIR, mode="0700")
        if s.get("trust"):
            yield from needs_exports(lambda: [self._trusted_ca(ctx)], f"file {TRUSTED_CA}", keep=TRUSTED_CA)
        primaries = {}
        for spec in s["certificates"].values():
            primary = primary_of(ctx.inventory, spec["names"])
            primaries[primary.name] = primary
        for primary in primaries.values():
            path = credentials_path(primary)
            yield from needs_exports(lambda primary=primary: [self._credentials(ctx, primary)], f"file {path}", keep=path)
        for name, spec in s["certificates"].items():
            yield File(deploy_hook(name), hook_script(name, spec.get("reload") or []), mode="0755")
            yield Certificate(name, tuple(spec["names"]), s["renew_before_days"],
                              issue=certbot_issue(ctx, name, spec), renew=certbot_renew(ctx, name))
        yield File(TIMER_DROP_IN, timer_environment(s), notify=DAEMON_RELOAD)
        yield Service("certbot.timer")

    def handlers(self, ctx):
        return {DAEMON_RELOAD: "systemctl daemon-reload"}

    def _trusted_ca(self, ctx) -> File:
        return File(TRUSTED_CA, ctx.export(ctx.settings["trust"], "api_cert", role="acme_ca").strip() + "\n")

    def _credentials(self, ctx, primary) -> File:
        from fleetfab.roles.bind9 import ALGORITHM
        from fleetfab.roles.bind9.acmekeys import acme_export, acme_key_name

        secret = ctx.export(primary.name, acme_export(ctx.host.name), role="bind9")
        content = (f"dns_rfc2136_server = {primary.address}\ndns_rfc2136_port = 53\n"
                   f"dns_rfc2136_name = {acme_key_name(ctx.host.name)}\ndns_rfc2136_secret = {secret}\n"
                   f"dns_rfc2136_algorithm = {ALGORITHM.upper()}\n")
        return File(credentials_path(primary), content, mode="0600", secret=True)


def environment(settings) -> str:
    return f"REQUESTS_CA_BUNDLE={q(TRUSTED_CA)} " if settings.get("trust") else ""


def challenge_zones_served(primary, names) -> str:
    """Wait (up to 90 s) until the primary serves every challenge zone.

    The primary creates them in the same bootstrap, a moment before or
    after this host asks: certbot must not start before they exist.
    """
    checks = " && ".join(f"dig +short +norecurse SOA {q(challenge_name(n))} @{q(primary.address)} | grep -q ."
                         for n in names)
    return (f"i=0; until {checks}; do i=$((i + 1)); [ $i -le 30 ] || "
            f"{{ echo 'the primary {primary.name} does not serve the challenge zones yet' >&2; exit 1; }}; sleep 3; done\n")


def certbot_issue(ctx, name: str, spec: dict) -> str:
    s = ctx.settings
    primary = primary_of(ctx.inventory, spec["names"])
    account = ["--email", s["email"]] if s.get("email") else ["--register-unsafely-without-email"]
    names = [arg for n in spec["names"] for arg in ("-d", n)]
    return challenge_zones_served(primary, spec["names"]) + environment(s) + cmd(
        "certbot", "certonly", "--non-interactive", "--agree-tos", "--server", s["directory"], *account,
        "--cert-name", name, "--key-type", spec.get("key_type") or "ecdsa", *names,
        "--authenticator", "dns-rfc2136", "--dns-rfc2136-credentials", credentials_path(primary),
        "--dns-rfc2136-propagation-seconds", str(PROPAGATION), "--deploy-hook", deploy_hook(name),
        "--force-renewal")


def certbot_renew(ctx, name: str) -> str:
    # Without a terminal certbot sleeps up to eight minutes before renewing,
    # to spread a fleet's load on the CA; a bootstrap renewing a due
    # certificate must not.
    return environment(ctx.settings) + cmd("certbot", "renew", "--non-interactive", "--no-random-sleep-on-renew",
                                           "--cert-name", name, "--force-renewal")


def hook_script(name: str, units) -> str:
    """After each issuance and renewal: the combined file for HAProxy, then reloads."""
    reloads = "".join(f"if systemctl is-active -q {q(u)}; then systemctl reload {q(u)}; fi\n" for u in units)
    return (
        "#!/bin/sh\n# Written by fleetfab (certificates role): certbot runs it after each issuance and renewal.\n"
        f"set -e\numask 077\ncat {q(live(name, 'fullchain'))} {q(live(name, 'privkey'))} > {q(combined(name) + '.new')}\n"
        f"mv {q(combined(name) + '.new')} {q(combined(name))}\n{reloads}"
    )


def timer_environment(settings) -> str:
    """certbot's own renewal timer trusts what the issuing commands trust."""
    trust = f"Environment=REQUESTS_CA_BUNDLE={TRUSTED_CA}\n" if settings.get("trust") else ""
    return f"# Written by fleetfab (certificates role).\n[Service]\n{trust}"
