"""The bind9 role: authoritative DNS for the operator's zones, from the inventory.

One primary per zone holds the zone files, rendered from the inventory; the
secondaries transfer them, signed with a TSIG key that the primary generates
and hands over as a secret export. Servers answer for their zones only.
"""

from __future__ import annotations

from datetime import datetime, timezone

from fleetfab import shapes
from fleetfab.dns import contributed_records
from fleetfab.resources import Command, Directory, File, Packages, Service
from fleetfab.role import Export, Role, needs_exports
from fleetfab.resources.safewrite import as_writer, basename, dirname, enter
from fleetfab.shell import q
from fleetfab.roles.bind9 import checks
from fleetfab.roles.bind9.fleet import ROLE, is_primary, zones_of
from fleetfab.roles.bind9.resources import RELOAD, RETRANSFER, SecondarySync, ZoneFile, ZoneGuard, served_serial_probe
from fleetfab.roles.bind9.settings import DEFAULTS, SETTINGS
from fleetfab.roles.bind9.acmekeys import ACME_KEY_DIR, acme_export, acme_key_file, acme_key_name, forget_stale_keys, grants
from fleetfab.roles.bind9.challenges import DYNAMIC_DIR, challenge_zones, clients_of, delegations, initial_zone
from fleetfab.roles.bind9.records import join
from fleetfab.roles.bind9.zonedata import forward_domain, nameserver, zone_content

PACKAGES = ("bind9", "bind9-utils", "bind9-dnsutils")
KEY_DIR = "/etc/bind/fleetfab-keys"
ZONE_DIR = "/etc/bind/zones"
SECONDARY_DIR = "/var/cache/bind/secondary"
OPTIONS = "/etc/bind/named.conf.options"
LOCAL = "/etc/bind/named.conf.local"
MAIN = "/etc/bind/named.conf"
ALGORITHM = "hmac-sha256"
#: tsig-keygen's secret for ALGORITHM: base64 of as many bytes as the hash gives
TSIG_SECRET = shapes.tsig_secret(32, ALGORITHM)
#: what `_serials_command` prints: a header, then '<zone> <serial>' (no serial while not served)
SERIALS = shapes.lines_matching("zone serials", r"[A-Za-z0-9._-]+ ?[0-9]{0,10}", header="# zone serials")
# Folders made inside /etc/bind inherit its set-group-id bit (and chmod keeps
# it), so the desired modes include it or they would never converge.
KEY_DIR_MODE = "2750"
ZONE_DIR_MODE = "2755"
RECONFIG = "reconfig named"


def key_name(primary) -> str:
    """The TSIG key of a primary's transfers: one per primary."""
    return f"fleetfab-{primary.name}"


def key_file(primary) -> str:
    return f"{KEY_DIR}/{key_name(primary)}.key"


def tsig_keygen(name: str, path: str) -> str:
    """The key is made under a fresh name in its folder, root's alone (`safewrite`
    refuses any other), and renamed into place: no fixed staging name to plant."""
    return ("set -e\numask 027\n" + enter(path, dirname(path)) + f"name={q(basename(path))}\n"
            "tmp=$(mktemp ./.fleetfab.XXXXXX)\ntrap 'rm -f -- \"$tmp\"' EXIT\n"
            f"tsig-keygen -a {ALGORITHM} {q(name)} > \"$tmp\"\n"
            "chgrp -h bind -- \"$tmp\"\nchmod 640 -- \"$tmp\"\nmv -T -f -- \"$tmp\" \"$name\"\ntrap - EXIT")


def secret_of(path: str) -> str:
    """Prints a key file's secret: for exports only, which are redacted everywhere."""
    return f"sed -n 's/^[[:space:]]*secret \"\\(.*\\)\";.*/\\1/p' {q(path)}"


def zone_path(zone) -> str:
    return f"{ZONE_DIR}/{zone.name}.zone"


def secondary_path(zone) -> str:
    return f"{SECONDARY_DIR}/{zone.name}.zone"


def in_context(path: str) -> str:
    """A validator that checks the whole configuration with the new `path` in it.

    A file alone can be valid and still clash with the rest (a zone declared
    twice, an unknown key), so named-checkconf reads named.conf with the
    candidate file in place of the current one, and test-loads every zone.
    """
    return ('{ f=%s; sed "s|\\"' + path + '\\"|\\"$f\\"|" ' + MAIN + ' > "$f.conf" && '
            'named-checkconf -z "$f.conf"; rc=$?; rm -f "$f.conf"; [ $rc -eq 0 ]; }')


class Bind9(Role):
    name = ROLE
    after = ("base",)
    settings = SETTINGS
    defaults = DEFAULTS

    def check(self, inventory):
        return checks.problems(inventory)

    # -- phase 1: the primary's TSIG key ------------------------------------

    def prepare(self, ctx):
        if not is_primary(ctx.host):
            return
        path = key_file(ctx.host)
        yield Packages(PACKAGES)
        yield Directory(KEY_DIR, group="bind", mode=KEY_DIR_MODE)
        yield Command("generate the TSIG transfer key", run=tsig_keygen(key_name(ctx.host), path), creates=path,
                      notify=RECONFIG)
        yield from self._acme_keys(ctx)

    def exports(self, ctx):
        if not is_primary(ctx.host):
            return {}
        # Serials are true only now: a primary that cannot be read has none to compare.
        return {"tsig": Export(secret_of(key_file(ctx.host)), secret=True, shape=TSIG_SECRET),
                **{acme_export(c): Export(secret_of(acme_key_file(c)), secret=True, shape=TSIG_SECRET)
                   for c in clients_of(self._challenges(ctx))},
                "serials": Export(self._serials_command(ctx), remember=False, shape=SERIALS)}

    def _serials_command(self, ctx) -> str:
        """Prints '<zone> <serial>' for each zone the primary serves, so secondaries can compare."""
        lines = [f"echo {q(z.name)} $({served_serial_probe(z.name)})" for z in self._primary_zones(ctx)]
        return "\n".join(["echo '# zone serials'", *lines])

    # -- phase 3: the server ----------------------------------------------

    def resources(self, ctx):
        primary = self._primary_zones(ctx)
        secondary = self._secondary_zones(ctx)
        challenges = self._challenges(ctx)
        contributed = contributed_records(ctx, ctx.inventory.roles) + delegations(challenges, _nameserver) if primary else []
        contents = {z.name: zone_content(ctx.inventory, z, contributed) for z in primary}
        today = datetime.now(timezone.utc).date()
        if primary:
            yield _guard(contents, ctx.force)
        yield Packages(PACKAGES)
        yield Directory(KEY_DIR, group="bind", mode=KEY_DIR_MODE)
        if primary:
            yield Directory(ZONE_DIR, group="bind", mode=ZONE_DIR_MODE)
        if secondary:
            yield Directory(SECONDARY_DIR, owner="bind", group="bind", mode="0755")
        if challenges:
            yield Directory(DYNAMIC_DIR, owner="bind", group="bind", mode="0755")
            yield from (self._challenge_zone(ctx, c) for c in challenges)
        yield from self._peer_keys(ctx, secondary)
        for zone in primary:
            yield ZoneFile(contents[zone.name], zone_path(zone), today, notify=RELOAD)
        yield File(OPTIONS, ctx.template("bind9/named.conf.options.j2"), group="bind",
                   validate=in_context(OPTIONS), notify=RECONFIG)
        yield File(LOCAL, self._local_conf(ctx, primary, secondary, challenges), group="bind",
                   validate=in_context(LOCAL), notify=RECONFIG)
        if is_primary(ctx.host):
            yield forget_stale_keys(clients_of(challenges), ctx.host.name, LOCAL)
        yield Service("named")
        yield from self._sync_checks(ctx, secondary)

    def health(self, ctx):
        from fleetfab.roles.bind9.health import checks

        return checks(ctx)

    def down_together(self, members):
        """Never every name server at once: the zones stay served."""
        return max(1, members - 1)

    def handlers(self, ctx):
        # Reload, never restart: a restart would drop every zone for its duration.
        # Order matters: new keys and zones first, then zone data, then transfers.
        retransfer = "".join(f"rndc retransfer {q(z.name)}\n" for z in self._secondary_zones(ctx))
        return {RECONFIG: "rndc reconfig", RELOAD: "rndc reload", RETRANSFER: retransfer or "true"}

    # -- pieces ---------------------------------------------------------------

    def _primary_zones(self, ctx):
        return [z for z in zones_of(ctx.inventory, ctx.host) if z.primary.name == ctx.host.name]

    def _secondary_zones(self, ctx):
        return [z for z in zones_of(ctx.inventory, ctx.host) if z.primary.name != ctx.host.name]

    def _peer_keys(self, ctx, secondary):
        """The transfer key of each primary this host transfers from, written as a secret."""
        for primary in _unique_hosts(z.primary for z in secondary):
            # A secret is never remembered: a primary that cannot be read leaves
            # the copy this secondary already has exactly as it is.
            yield from needs_exports(lambda primary=primary: [self._peer_key(ctx, primary)],
                                     f"file {key_file(primary)}", keep=key_file(primary))

    def _peer_key(self, ctx, primary) -> File:
        content = ctx.template("bind9/tsig.key.j2", key_name=key_name(primary), algorithm=ALGORITHM,
                               secret=ctx.export(primary.name, "tsig"))
        return File(key_file(primary), content, group="bind", mode="0640", secret=True,
                    validate="named-checkconf %s", notify=RECONFIG)

    def _local_conf(self, ctx, primary, secondary, challenges) -> str:
        own = [{"name": z.name, "file": zone_path(z), "key": key_name(z.primary),
                "notify": [h.address for h in z.secondaries]} for z in primary]
        others = [{"name": z.name, "file": secondary_path(z), "key": key_name(z.primary),
                   "primary": z.primary.address} for z in secondary]
        dynamic = [{"name": c.name, "file": c.file, "grants": grants(c)} for c in challenges]
        keys = [key_file(h) for h in _unique_hosts([*(z.primary for z in primary), *(z.primary for z in secondary)])]
        keys += [acme_key_file(c) for c in clients_of(challenges)]
        return ctx.template("bind9/named.conf.local.j2", key_files=keys, primary_zones=own, secondary_zones=others,
                            challenge_zones=dynamic)

    def _acme_keys(self, ctx):
        """One key per certificates host with names here, made here: its secret never leaves but as a secret export."""
        clients = clients_of(self._challenges(ctx))
        if clients:
            yield Directory(ACME_KEY_DIR, group="bind", mode=KEY_DIR_MODE)
        for client in clients:
            yield Command(f"generate the ACME key of {client}", run=tsig_keygen(acme_key_name(client), acme_key_file(client)),
                          creates=acme_key_file(client), notify=RECONFIG)

    def _challenges(self, ctx):
        """The ACME challenge zones this host holds, for the names other roles certify, and who certifies each."""
        claims = [claim for role in ctx.inventory.roles.values() for claim in role.dynamic_zones(ctx.inventory)]
        return [c for c in challenge_zones(ctx.inventory, claims) if c.primary.name == ctx.host.name]

    def _challenge_zone(self, ctx, challenge) -> Command:
        """Created once; from then on the file is named's (with its journal), never fleetfab's.

        The folder is bind's, so bind writes the file (`safewrite`): a link
        bind planted there can only redirect bind's own write.
        """
        content = initial_zone(challenge, _nameserver(ctx.host, challenge.parent), join("hostmaster", challenge.parent.name))
        write = ('umask 022; t=$(mktemp ./.fleetfab.XXXXXX) && printf "%s" "$1" > "$t" && chmod 644 -- "$t" && '
                 'mv -T -f -- "$t" "$2" || { rm -f -- "$t"; exit 1; }')
        run = ("set -e\n" + enter(challenge.file, dirname(challenge.file), "bind", "bind")
               + as_writer(write, q(content), q(basename(challenge.file)))
               + f"\n[ -n \"$ff_as\" ] || chown -h bind:bind -- {q(basename(challenge.file))}")
        return Command(f"create the challenge zone {challenge.name}", run=run, creates=challenge.file, notify=RECONFIG)

    def _sync_checks(self, ctx, secondary):
        for zone in secondary:
            served = ctx.optional_export(zone.primary.name, "serials", f"zone {zone.name}'s transfer from {zone.primary.name} not compared")
            expected = None if served is None else _serials(served).get(zone.name)
            yield SecondarySync(zone.name, zone.primary.name, expected, notify=RETRANSFER)


def _nameserver(host, zone) -> str:
    return nameserver(host, forward_domain(zone))


def _guard(contents: dict, force: bool) -> ZoneGuard:
    """The safety guard over every zone this primary writes."""
    zones = tuple((name, f"{ZONE_DIR}/{name}.zone", frozenset(r.identity for r in content.records))
                  for name, content in contents.items())
    return ZoneGuard(zones, force=force)


def _unique_hosts(hosts):
    seen = {}
    for host in hosts:
        seen.setdefault(host.name, host)
    return list(seen.values())


def _serials(text: str) -> dict[str, int]:
    found = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            found[parts[0]] = int(parts[1])
    return found

