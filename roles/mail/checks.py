"""Fleet-wide checks of the mail settings: what Postfix would accept but operators regret."""

from __future__ import annotations

from fleetfab.role import settings_problem
from fleetfab.roles.mail import maps
from fleetfab.roles.mail.settings import REQUIRED_ALIASES, ROLE


def problems(inventory):
    found = []
    for host in inventory.with_role(ROLE):
        s = host.settings(ROLE)
        domains = maps.domains_of(s)
        found += _required_aliases(inventory, host, domains)
        found += _unknown_targets(inventory, host, domains)
        found += _mta_sts_edge(inventory, host)
        name = s.get("hostname")
        if name and name in s.get("domains", {}):
            found.append(settings_problem(inventory, host, ROLE, "hostname",
                                          f"{name} is also a mail domain; the server's own name must differ"))
    return found


def _required_aliases(inventory, host, domains):
    for d in domains:
        for local in REQUIRED_ALIASES:
            if local not in d.mailboxes and local not in d.aliases:
                yield settings_problem(inventory, host, ROLE, "domains",
                                       f"{d.name} needs a mailbox or alias '{local}' (RFC 2142)")


def _unknown_targets(inventory, host, domains):
    """An alias to a mailbox of a local domain that does not exist would bounce every message."""
    # What a local domain delivers: its mailboxes and aliases; behind a catch-all, any
    # address (the catch-all's own target is checked in its turn).
    delivered = maps.mailbox_names(domains) | {f"{local}@{d.name}" for d in domains for local in d.aliases}
    local_domains = {d.name for d in domains}
    catch_all_domains = {d.name for d in domains if d.catch_all}
    for d in domains:
        targets = [(t, True) for ts in d.aliases.values() for t in ts] + ([(d.catch_all, False)] if d.catch_all else [])
        for target, may_be_caught in targets:
            domain = target.split("@", 1)[1]
            if domain in local_domains and target not in delivered and not (may_be_caught and domain in catch_all_domains):
                yield settings_problem(inventory, host, ROLE, "domains", f"{d.name}: alias target {target} is no mailbox")


def _mta_sts_edge(inventory, host):
    """The policy's host must exist, serve it, and hold a certificate for each mta-sts name."""
    from fleetfab.roles.mail import mtasts

    if not mtasts.enabled(host):
        return
    edge = inventory.hosts.get(host.settings(ROLE)["mta_sts"]["edge"])
    if edge is None or "edge" not in edge.roles:
        yield settings_problem(inventory, host, ROLE, "mta_sts", "mta_sts.edge must name a host carrying the edge role")
        return
    certified = {n for c in (edge.settings("certificates").get("certificates") or {}).values() for n in c["names"]} \
        if "certificates" in edge.roles else set()
    for domain in mtasts.policy_domains(inventory, host):
        name = mtasts.policy_host_name(domain)
        if name not in certified and f"*.{domain}" not in certified:
            yield settings_problem(inventory, host, ROLE, "mta_sts",
                                   f"{edge.name} has no certificate for {name} (certificates.certificates)")
