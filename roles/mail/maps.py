"""The mail server's tables as data: domains, mailboxes, aliases, who may send as whom.

Pure functions of one host's settings, rendered into Postfix `texthash:`
tables (read whole at each reload, so no `postmap` step can lag behind)
and Dovecot's passwd-file. A mailbox is its full address; its Maildir is
/var/vmail/<domain>/<local part>/Maildir, owned by the one vmail account.
"""

from __future__ import annotations

from dataclasses import dataclass

VMAIL_HOME = "/var/vmail"


@dataclass(frozen=True)
class Domain:
    name: str
    mailboxes: dict[str, str]  # local part -> password hash
    aliases: dict[str, tuple[str, ...]]  # local part -> full addresses
    catch_all: str | None


def address(target: str, domain: str) -> str:
    """A full address for an alias target written as a local part or an address."""
    return target if "@" in target else f"{target}@{domain}"


def domains_of(settings: dict) -> list[Domain]:
    found = []
    for name, spec in sorted((settings.get("domains") or {}).items()):
        spec = spec or {}
        mailboxes = {local: box["password"] for local, box in sorted((spec.get("mailboxes") or {}).items())}
        aliases = {local: tuple(address(t, name) for t in targets)
                   for local, targets in sorted((spec.get("aliases") or {}).items())}
        catch_all = address(spec["catch_all"], name) if spec.get("catch_all") else None
        found.append(Domain(name, mailboxes, aliases, catch_all))
    return found


def table(entries) -> str:
    """A texthash table: one `key value` line each."""
    return "".join(f"{key} {value}\n" for key, value in entries)


def domains_table(domains: list[Domain]) -> str:
    return table((d.name, "OK") for d in domains)


def mailboxes_table(domains: list[Domain]) -> str:
    return table((f"{local}@{d.name}", f"{d.name}/{local}/") for d in domains for local in d.mailboxes)


def aliases_table(domains: list[Domain]) -> str:
    """Aliases, then catch-alls; each mailbox also maps to itself, so a catch-all never swallows it."""
    entries = []
    for d in domains:
        entries += [(f"{local}@{d.name}", ",".join(targets)) for local, targets in d.aliases.items()]
        if d.catch_all:
            entries += [(f"{local}@{d.name}", f"{local}@{d.name}") for local in d.mailboxes]
            entries.append((f"@{d.name}", d.catch_all))
    return table(entries)


def senders_table(domains: list[Domain]) -> str:
    """Who may send as each address: its mailbox, and the mailboxes an alias delivers to."""
    owners: dict[str, list[str]] = {}
    for d in domains:
        for local in d.mailboxes:
            owners.setdefault(f"{local}@{d.name}", []).append(f"{local}@{d.name}")
    boxes = set(owners)
    for d in domains:
        for local, targets in d.aliases.items():
            logins = [t for t in targets if t in boxes]
            if logins:
                owners.setdefault(f"{local}@{d.name}", []).extend(logins)
    return table((sender, ",".join(dict.fromkeys(logins))) for sender, logins in sorted(owners.items()))


def users_file(domains: list[Domain]) -> str:
    """Dovecot's passwd-file: one `address:hash` line per mailbox."""
    return "".join(f"{local}@{d.name}:{password}\n" for d in domains for local, password in d.mailboxes.items())


def mailbox_names(domains: list[Domain]) -> set[str]:
    return {f"{local}@{d.name}" for d in domains for local in d.mailboxes}
