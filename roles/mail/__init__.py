"""The mail role: Postfix and Dovecot for the operator's domains, DKIM by OpenDKIM.

prepare   the packages, and a DKIM key generated on the host (once)
exports   the public half of every DKIM key on the host, and which one signs
resources the vmail account and its Maildirs, Postfix's tables and its
          main.cf/master.cf (checked by postconf and `postfix check`),
          Dovecot's whole configuration (doveconf) and users (hashes only),
          OpenDKIM's configuration (opendkim -n), a TLS certificate, the
          three services, and what the name servers publish of this host
records   MX, SPF, DMARC, the DKIM keys, TLS-RPT, the host's A and PTR,
          contributed to the fleet's zones (fleetfab.dns) for bind9 to serve
handlers  reloads, never restarts
"""

from __future__ import annotations

import ipaddress

from fleetfab import shapes
from fleetfab.dns import DnsRecord, holding_zone
from fleetfab.resources import Command, Directory, File, Packages, Service, User
from fleetfab.role import Export, Role, needs_exports
from fleetfab.shell import q
from fleetfab.roles.bind9.fleet import fleet_zones
from fleetfab.roles.certificates.served import ServedCertificate
from fleetfab.roles.mail import dkim, maps, mtasts, releases
from fleetfab.roles.mail.checks import problems
from fleetfab.roles.mail.leftovers import LeftoverMailboxes
from fleetfab.roles.mail.published import DkimServed, PostfixInEffect, PtrAgrees, main_cf_settings
from fleetfab.roles.mail.settings import DEFAULTS, ROLE, SETTINGS

PACKAGES = ("postfix", "dovecot-imapd", "dovecot-lmtpd", "opendkim", "opendkim-tools", "openssl", "bind9-dnsutils")
MAPS_DIR = "/etc/postfix/fleetfab"
MAPS = {name: f"{MAPS_DIR}/{name}" for name in ("domains", "mailboxes", "aliases", "senders")}
USERS_FILE = "/etc/dovecot/fleetfab-users"
TLS_DIR = "/etc/fleetfab/mail"
SELF_SIGNED = {"cert": f"{TLS_DIR}/tls.crt", "key": f"{TLS_DIR}/tls.key"}
VMAIL = "vmail"
#: OpenDKIM's socket, in Postfix's chroot (its queue directory): Postfix's
#: daemons keep only their primary group, so the folder is group postfix,
#: setgid so that the socket OpenDKIM makes there is group postfix too. No
#: other account reaches it (the folder is closed to them), unlike a TCP
#: port on localhost, where any local account could have its mail signed.
MILTER_DIR = "/var/spool/postfix/opendkim"
MILTER_SOCKET = f"{MILTER_DIR}/opendkim.sock"
#: as Postfix names it: relative to its queue directory, chrooted or not
MILTER = "unix:opendkim/opendkim.sock"
RELOAD_POSTFIX, RELOAD_DOVECOT, RELOAD_DKIM = "reload postfix", "reload dovecot", "reload opendkim"
#: a few parameters (inet_protocols, inet_interfaces) only take effect at a
#: start, and Postfix's master exits on a reload that needs one: it is then
#: started, and says so
def reload_postfix_script(unit: str = "postfix@-") -> str:
    """`unit`: the mail system's own unit on this host (releases.postfix_unit)."""
    return (
        "postfix reload\nsleep 2\n"
        "if ! postfix status >/dev/null 2>&1; then\n"
        "  echo 'postfix stopped after its reload (a change that needs a start): starting it' >&2\n"
        f"  systemctl restart {unit}\nfi\n"
    )


RELOAD_POSTFIX_SCRIPT = reload_postfix_script()
#: OpenDKIM re-reads its keys and domains on a reload, but not its socket
RELOAD_DKIM_SCRIPT = (
    "systemctl reload opendkim\n"
    f"if ! ss -Hlx | grep -qF ' {MILTER_SOCKET} '; then\n"
    f"  echo 'opendkim does not listen on {MILTER_SOCKET} after its reload (a new socket needs a start): restarting it' >&2\n"
    "  systemctl restart opendkim\nfi\n"
)


def hostname(host) -> str:
    """The server's own name: EHLO, MX target, certificate."""
    s = host.settings(ROLE)
    return s.get("hostname") or f"{host.name}.{sorted(s['domains'])[0]}"


def tls_paths(settings: dict) -> dict:
    return settings.get("tls") or SELF_SIGNED


def postfix_checked(path: str) -> str:
    """A validator: postconf and `postfix check` on a copy of /etc/postfix with the candidate in place.

    Both print warnings and still exit 0 (an unknown parameter is only a
    warning), so a warning about the copy refuses the file, in Postfix's
    own words. `postfix -c` also reads the running main.cf, whose warnings
    are about the file being replaced, not the candidate. The script runs
    under `set -e`, inside command substitutions too: a grep that finds
    nothing must not end it.
    """
    return (
        '{ d=$(mktemp -d) && cp -a /etc/postfix/. "$d"/ && cp %s "$d/' + path.rsplit("/", 1)[1] + '" && '
        'out=$( { postconf -c "$d" -n >/dev/null || true; postfix -c "$d" check || true; } 2>&1 ) && '
        'bad=$( { echo "$out" | grep -F "$d/" | grep -iE "warning|fatal|error" | sort -u; '
        'echo "$out" | grep -iE "fatal" | grep -vF "$d/"; } || true ); rm -rf "$d"; '
        '[ -z "$bad" ] || { echo "$bad" >&2; false; }; }'
    )


class Mail(Role):
    name = ROLE
    # A certificate from the certificates role must be in place before
    # Postfix and Dovecot are pointed at it.
    after = ("base", "bind9", "certificates")
    settings = SETTINGS
    defaults = DEFAULTS

    def check(self, inventory):
        return problems(inventory)

    # -- phase 1: the packages and the DKIM key ---------------------------------

    def prepare(self, ctx):
        yield Packages(PACKAGES)
        yield Directory(dkim.KEY_DIR, owner="opendkim", group="opendkim", mode="0750")
        yield dkim.first_key()

    def exports(self, ctx):
        return {"dkim_keys": Export(dkim.KEYS_COMMAND, shape=shapes.DKIM_KEYS),
                "dkim_active": Export(dkim.ACTIVE_COMMAND, shape=shapes.DKIM_SELECTOR)}

    # -- phase 3: the server --------------------------------------------------

    def resources(self, ctx):
        s = ctx.settings
        domains = maps.domains_of(s)
        tls = tls_paths(s)
        yield Packages(PACKAGES)
        yield User(VMAIL, shell="/usr/sbin/nologin", home=maps.VMAIL_HOME, comment="virtual mailboxes")
        yield Directory(maps.VMAIL_HOME, owner=VMAIL, group=VMAIL, mode="0750")
        # a mailbox taken out of the inventory keeps its mail: drift reports it (roles/mail/leftovers.py)
        yield LeftoverMailboxes(tuple(sorted(maps.mailbox_names(domains))), host=ctx.host.name)
        yield from self._tables(domains)
        if not s.get("tls"):
            yield self._self_signed(ctx)
        main_cf = self._main_cf(ctx, tls)
        yield File("/etc/postfix/main.cf", main_cf, validate=postfix_checked("/etc/postfix/main.cf"), notify=RELOAD_POSTFIX)
        yield PostfixInEffect(tuple(main_cf_settings(main_cf).items()))
        yield File("/etc/postfix/master.cf", ctx.template("mail/master.cf.j2", submissions=s["submissions"]),
                   validate=postfix_checked("/etc/postfix/master.cf"), notify=RELOAD_POSTFIX)
        yield File(USERS_FILE, maps.users_file(domains), group="dovecot", mode="0640", secret=True, notify=RELOAD_DOVECOT)
        yield File("/etc/dovecot/dovecot.conf", self._dovecot_conf(ctx, domains, tls),
                   validate="doveconf -n -c %s >/dev/null", notify=RELOAD_DOVECOT)
        # The host's own exports: absent only in a plan of a host never bootstrapped.
        yield from needs_exports(lambda: self._signer(ctx, domains), "file /etc/opendkim.conf")
        # On Debian 12 postfix.service only starts its instance, postfix@- (releases.postfix_units).
        for unit in releases.postfix_units_off(ctx.release):
            yield Service(unit, enabled=False, running=False)
        for unit in ("opendkim", "dovecot", *releases.postfix_units(ctx.release)):
            yield Service(unit)
        yield from needs_exports(lambda: self._published(ctx, domains), "dkim records and ptr in the name servers")
        # A renewed certificate the services have not loaded yet is drift, fixed by their reloads.
        yield ServedCertificate(993, hostname(ctx.host), tls["cert"], notify=RELOAD_DOVECOT)
        yield ServedCertificate(587, hostname(ctx.host), tls["cert"], starttls="smtp", notify=RELOAD_POSTFIX)

    def health(self, ctx):
        from fleetfab.roles.mail.health import checks

        return checks(ctx)

    def handlers(self, ctx):
        # Reload, never restart: a restart drops the connections in flight.
        return {RELOAD_DKIM: RELOAD_DKIM_SCRIPT, RELOAD_DOVECOT: "doveadm reload", RELOAD_POSTFIX: reload_postfix_script(releases.postfix_unit(ctx.release))}

    # -- records for the fleet's zones ----------------------------------------

    def dns_records(self, ctx):
        for host in ctx.inventory.with_role(ROLE):
            yield from mail_records(ctx, host)

    # -- pieces -----------------------------------------------------------------

    def _tables(self, domains):
        yield Directory(MAPS_DIR)
        contents = {"domains": maps.domains_table(domains), "mailboxes": maps.mailboxes_table(domains),
                    "aliases": maps.aliases_table(domains), "senders": maps.senders_table(domains)}
        for name, content in contents.items():
            yield File(MAPS[name], content, notify=RELOAD_POSTFIX)

    def _self_signed(self, ctx) -> Command:
        """A certificate made on the host, its key never leaving it."""
        name = hostname(ctx.host)
        cert, key = SELF_SIGNED["cert"], SELF_SIGNED["key"]
        run = (f"set -e\nmkdir -p {q(TLS_DIR)}\numask 077\n"
               f"openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj {q('/CN=' + name)} "
               f"-addext {q('subjectAltName=DNS:' + name)} -keyout {q(key + '.new')} -out {q(cert + '.new')} 2>/dev/null\n"
               f"chmod 644 {q(cert + '.new')}\nmv {q(cert + '.new')} {q(cert)}\nmv {q(key + '.new')} {q(key)}\n")
        return Command("generate a self-signed TLS certificate", run=run, creates=key,
                       notify=(RELOAD_POSTFIX, RELOAD_DOVECOT))

    def _main_cf(self, ctx, tls) -> str:
        ipv6 = ipaddress.ip_address(ctx.host.address).version == 6
        return ctx.template("mail/main.cf.j2", hostname=hostname(ctx.host), maps=MAPS, tls=tls, ipv6=ipv6,
                            by_release=releases.postfix_settings(ctx.release),
                            milter=MILTER, extra=ctx.settings["postfix"])

    def _dovecot_conf(self, ctx, domains, tls) -> str:
        ipv6 = ipaddress.ip_address(ctx.host.address).version == 6
        return ctx.template(releases.dovecot_template(ctx.release), tls=tls, users_file=USERS_FILE, vmail=VMAIL, ipv6=ipv6,
                            vmail_home=maps.VMAIL_HOME, postmaster=f"postmaster@{domains[0].name}")

    def _signer(self, ctx, domains):
        selector = ctx.export(ctx.host.name, "dkim_active").strip()
        yield Directory(MILTER_DIR, owner="opendkim", group="postfix", mode="2750")
        conf = ctx.template("mail/opendkim.conf.j2", socket=f"local:{MILTER_SOCKET}", domains=[d.name for d in domains],
                            selector=selector, key_file=dkim.key_path(selector))
        yield File("/etc/opendkim.conf", conf, validate="opendkim -n -x %s", notify=RELOAD_DKIM)

    def _published(self, ctx, domains):
        """What the fleet's name servers serve of this host, asked of each of them."""
        selector = ctx.export(ctx.host.name, "dkim_active").strip()
        public = dkim.parse_keys(ctx.export(ctx.host.name, "dkim_keys")).get(selector)
        zones = fleet_zones(ctx.inventory)
        for d in domains:
            zone = zones.get(holding_zone(d.name, zones) or "")
            if zone is not None and public:
                for server in zone.servers:
                    yield DkimServed(d.name, selector, public, server.address, server.name)
        reverse = zones.get(holding_zone(ipaddress.ip_address(ctx.host.address).reverse_pointer, zones) or "")
        if reverse is not None:
            for server in reverse.servers:
                yield PtrAgrees(ctx.host.address, hostname(ctx.host), server.address, server.name)


def mail_records(ctx, host) -> list[DnsRecord]:
    """Every record one mail host needs published, by absolute name."""
    s = host.settings(ROLE)
    name = hostname(host)
    keys = ctx.optional_export(host.name, "dkim_keys", f"DKIM records of {host.name} left out", role=ROLE)
    records = [DnsRecord(name, "AAAA" if ":" in host.address else "A", host.address),
               DnsRecord(ipaddress.ip_address(host.address).reverse_pointer, "PTR", f"{name}.")]
    for domain in sorted(s["domains"]):
        records += [DnsRecord(domain, "MX", f"10 {name}."), DnsRecord(domain, "TXT", s["spf"]),
                    DnsRecord(f"_dmarc.{domain}", "TXT", s["dmarc"])]
        if s.get("tls_rpt"):
            records.append(DnsRecord(f"_smtp._tls.{domain}", "TXT", f"v=TLSRPTv1; rua={s['tls_rpt']}"))
        for selector, public in sorted(dkim.parse_keys(keys or "").items()):
            records.append(DnsRecord(f"{selector}._domainkey.{domain}", "TXT", dkim.txt_value(public)))
    return records + mtasts.records(ctx.inventory, host, name)
