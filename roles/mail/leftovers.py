"""Mailboxes taken out of the inventory: their mail is kept, drift says so, and only an
explicit task removes it.

Deleting someone's mail because a line left a YAML file is not something a
convergence run should do. A bootstrap therefore leaves a removed mailbox's
folder (/var/vmail/<domain>/<local part>) where it is: Dovecot no longer
lets anyone log in to it and Postfix no longer delivers to it, but the mail
stays on disk. Drift reports each such folder as left over, and
`fab -H MAILHOST mail.remove-mailbox ADDRESS` moves it aside, beside itself,
to /var/vmail/<domain>/.removed-<local part>-<time> (still on disk, no
longer reported), or with
`--delete-mail` deletes it. Either runs as the vmail account, which owns
every mailbox folder, so nothing planted in them can redirect root.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from fleetfab.resources.base import REPORT, Change, Resource
from fleetfab.role import Role, procedure_roles
from fleetfab.shell import q
from fleetfab.text import one_line
from fleetfab.roles.mail.maps import VMAIL_HOME, mailbox_names
from fleetfab.roles.mail.settings import ADDRESS, ROLE

#: the name a removed mailbox is kept under, in its domain's folder (a dot name: no mailbox is named so)
REMOVED = ".removed-"
#: the most left-over folders named in one drift line
NAMED = 20
VMAIL = "vmail"


def as_vmail(script: str) -> str:
    """`script` run by the vmail account in its own folder: it can touch only what vmail can."""
    return (f"cd {q(VMAIL_HOME)} && setpriv --reuid={VMAIL} --regid=$(id -g {VMAIL}) --init-groups --reset-env "
            f"-- env PATH=/usr/sbin:/usr/bin:/sbin:/bin sh -c {q(script)}\n")


@dataclass(frozen=True)
class LeftoverMailboxes(Resource):
    """Mailbox folders under /var/vmail that no mailbox of the inventory uses: reported, never deleted."""

    #: every mailbox of the host, as 'local@domain'
    declared: tuple[str, ...]
    host: str = "MAILHOST"

    @property
    def key(self) -> str:
        return f"mailboxes not in the inventory ({VMAIL_HOME})"

    def probe(self) -> str:
        root = q(VMAIL_HOME)
        return (f"if [ -d {root} ]; then find {root} -mindepth 2 -maxdepth 2 -type d "
                "! -path '*/.*' -printf '%P\\n' 2>/dev/null | head -n 1000; fi")

    def compare(self, output: str) -> Change | None:
        found = sorted(address_of(line) for line in output.splitlines() if address_of(line))
        extra = [a for a in found if a not in set(self.declared)]
        if not extra:
            return None
        named = ", ".join(extra[:NAMED]) + (f" and {len(extra) - NAMED} more" if len(extra) > NAMED else "")
        return self.change(REPORT, f"{named}: no longer in the inventory; the mail is kept in {VMAIL_HOME} "
                                   f"(fab -H {self.host} mail.remove-mailbox ADDRESS [--delete-mail] removes one)")

    def fix(self, change: Change) -> str:
        return "true\n"


def address_of(folder: str) -> str | None:
    """'example.com/alice' -> 'alice@example.com', for a folder named as a mailbox is; else None."""
    domain, _, local = one_line(folder.strip()).partition("/")
    address = f"{local}@{domain}"
    return address if re.fullmatch(ADDRESS, address) else None


@dataclass(frozen=True)
class MailboxRemoved(Resource):
    """One mailbox's folder gone from /var/vmail: moved aside in its domain's folder (a rename in
    place: no copy of the mail, on any filesystem), or (`delete`) deleted."""

    address: str
    delete: bool = False
    stamp: str = ""

    @property
    def key(self) -> str:
        return f"mailbox {self.address}"

    @property
    def folder(self) -> str:
        local, domain = self.address.split("@", 1)
        return f"{domain}/{local}"

    def probe(self) -> str:
        path = q(f"{VMAIL_HOME}/{self.folder}")
        return f"if [ -d {path} ] && [ ! -L {path} ]; then echo present; else echo absent; fi"

    def compare(self, output: str) -> Change | None:
        if output.strip() != "present":
            return None
        if self.delete:
            return self.change("delete", f"{VMAIL_HOME}/{self.folder} and all its mail deleted")
        return self.change("archive", f"{VMAIL_HOME}/{self.folder} moved to {VMAIL_HOME}/{self.kept} (the mail is kept)")

    @property
    def kept(self) -> str:
        local, domain = self.address.split("@", 1)
        return f"{domain}/{REMOVED}{local}-{self.stamp}"

    def fix(self, change: Change) -> str:
        if change.action == "delete":
            return as_vmail(f"rm -rf -- {q(self.folder)}")
        return as_vmail(f"mv -T -- {q(self.folder)} {q(self.kept)}")


class RemovingMailbox(Role):
    """The mail role during mail.remove-mailbox: states that one folder's removal, nothing else."""

    name = ROLE

    def __init__(self, address: str, delete: bool):
        self.resource = MailboxRemoved(address, delete, time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()))

    def resources(self, ctx):
        yield self.resource


def refusal(inventory, host, address: str) -> str | None:
    """Why `address` may not be removed from `host` now, or None."""
    if ROLE not in host.roles:
        return f"{host.name} has no mail role"
    if not re.fullmatch(ADDRESS, address):
        return f"{address!r} is not a mailbox address (local@domain)"
    from fleetfab.roles.mail.maps import domains_of

    if address in mailbox_names(domains_of(host.settings(ROLE))):
        return f"{address} is still a mailbox in the inventory: take it out there (and bootstrap) first"
    return None


def remove_mailbox(hosts: str | None, address: str, delete: bool = False) -> int:
    """`fab -H MAILHOST mail.remove-mailbox ADDRESS [--delete-mail]`, through the engine's procedure runner."""
    from fleetfab.cli import exitcodes
    from fleetfab.cli.commands import consoles, load_or_explain, procedure

    out, err = consoles()
    loaded = load_or_explain(err, hosts)
    if loaded is None:
        return exitcodes.FAILED
    inventory, selected = loaded
    if not hosts or len(selected) != 1:
        err.print("mail.remove-mailbox needs -H with one mail host; nothing was contacted.", style="bold red")
        return exitcodes.FAILED
    why = refusal(inventory, selected[0], address)
    if why:
        err.print(f"mail.remove-mailbox: {why}; nothing was contacted.", style="bold red", markup=False)
        return exitcodes.FAILED
    roles = procedure_roles(inventory, **{ROLE: RemovingMailbox(address, delete)})
    _result, code = procedure(inventory, selected, "mail.remove-mailbox", roles, out, err,
                              title=f"mail.remove-mailbox {address}" + (" --delete-mail" if delete else ""))
    return code
