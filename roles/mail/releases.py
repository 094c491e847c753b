"""What the mail role renders differently on Debian 12 and Debian 13.

Dovecot 2.4 (Debian 13) refuses a 2.3 configuration outright, so its
configuration is a template of its own. Postfix changes less: since Debian's
3.9.0-3 its upgrade writes `cyrus_sasl_config_path = /etc/postfix/sasl` into
main.cf (the path Debian's policy names, no longer built in), so main.cf
carries it there too, rather than drift against Debian's own packaging.
The installed version decides; a package not installed yet renders as the
host's release ships it (fleetfab.release.SHIPPED).
"""

from __future__ import annotations

DOVECOT_23 = "mail/dovecot.conf.j2"
DOVECOT_24 = "mail/dovecot-2.4.conf.j2"
#: Debian's own value, which its postfix package writes when it upgrades past 3.9.0-3
DEBIAN_SASL_PATH = "/etc/postfix/sasl"


def dovecot_template(release) -> str:
    """The Dovecot configuration's template for this host: 2.4's syntax, or 2.3's."""
    return DOVECOT_24 if release.renders_at_least("dovecot-core", "2.4") else DOVECOT_23


def postfix_settings(release) -> dict[str, str]:
    """main.cf settings that depend on the host's Postfix, by name."""
    if release.renders_at_least("postfix", "3.9"):
        return {"cyrus_sasl_config_path": DEBIAN_SASL_PATH}
    return {}


def postfix_units(release) -> tuple[str, ...]:
    """Postfix's units to keep enabled and running.

    Debian 12's postfix.service is a wrapper that starts the instance
    postfix@-, the mail system itself; Debian 13's postfix.service is the
    mail system, and conflicts with postfix@- (starting that one would stop it).
    """
    return ("postfix",) if release.renders_at_least("postfix", "3.9") else ("postfix", "postfix@-")


def postfix_unit(release) -> str:
    """The unit that is the running mail system: the one to restart."""
    return postfix_units(release)[-1]


def postfix_units_off(release) -> tuple[str, ...]:
    """Units left over from Debian 12 that must not run on 13: its postfix@- would stop postfix.service."""
    return ("postfix@-",) if release.renders_at_least("postfix", "3.9") else ()


def postfix_unit_on(codename: str) -> str:
    """The mail system's unit on a host of release `codename` with the Postfix it ships (for checks from outside)."""
    from fleetfab.release import Release

    return postfix_unit(Release("debian", "", codename, {}))
