"""The lockout guard: the base role never removes the access fleetfab itself logs in with.

Keys-only sshd, exact authorized_keys and a managed sudoers file are what an
operator wants, and one wrong line in the inventory would leave fleetfab
(and often the operator) outside the host. Before any of the base role's
changes, this guard checks that the desired state keeps:

- root login while fleetfab logs in as root (`base.ssh.permit_root_login`);
- the login account's key in its authorized_keys, and its sudo rule, where
  fleetfab logs in as an admin of the base role;
- a sudo rule in fleetfab's sudoers file for a login account that is no
  longer an admin (read from the host: the one thing the inventory cannot say);
- a recorded ed25519 host key: sshd will offer only that type.

Whatever it finds refuses the host's base role, reason by reason, in the
plan (dry run and drift show it) and at apply, unless the run is forced.
Root's own authorized_keys always keeps fleetfab's key (roles/sshd.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from fleetfab.resources.base import Change, Resource
from fleetfab.shell import q
from fleetfab.roles import sshd

#: the refusal's action in plans
REFUSE = "refuse"
SUDOERS = "/etc/sudoers.d/fleetfab-admins"


def sudo_rule(user: str) -> str:
    """The line the base role writes into its sudoers file for an admin with sudo."""
    return f"{user} ALL=(ALL:ALL) NOPASSWD: ALL"


def guard(ctx) -> "LockoutGuard":
    """The guard for this host, with the reasons the inventory alone shows."""
    user = ctx.host.user
    admin = next((a for a in ctx.settings["admins"] if a["name"] == user), None)
    probe_sudo = user != "root" and admin is None and not ctx.inventory.ops_copy
    return LockoutGuard(user, tuple(inventory_reasons(ctx, admin)), probe_sudo, ctx.force)


def inventory_reasons(ctx, admin: dict | None) -> list[str]:
    user, ssh = ctx.host.user, ctx.inventory.ssh
    reasons = []
    if ctx.inventory.ops_copy:
        return reasons
    if user == "root" and ctx.settings["ssh"]["permit_root_login"] == "no":
        reasons.append("base.ssh.permit_root_login is 'no' while fleetfab logs in as root (ssh.user): "
                       "sshd would refuse its next login")
    if admin is not None:
        if not admin.get("sudo", True):
            reasons.append(f"admin {user!r} is fleetfab's login (ssh.user) and would lose sudo ({SUDOERS})")
        login = own_public_key(ssh)
        if login and not any(sshd.same_key(login, key) for key in admin.get("keys", [])):
            reasons.append(f"admin {user!r} is fleetfab's login (ssh.user) and its authorized_keys would lose "
                           f"fleetfab's key ({ssh.identity}); add that key to the admin's keys")
    if not ssh.trust_on_first_use and not has_ed25519_key(ctx.host, ssh):
        reasons.append("sshd will offer only its ssh-ed25519 host key, and known_hosts records none for this host: "
                       "collect it first (fab -H HOST hostkeys.collect)")
    return reasons


def own_public_key(ssh) -> str | None:
    if ssh.identity is None:
        return None
    try:
        return sshd.public_line(ssh.identity)
    except sshd.NoLoginKey:
        return None


def has_ed25519_key(host, ssh) -> bool:
    from fleetfab.ssh import known_keys, known_name

    return "ssh-ed25519" in known_keys(known_name(host), ssh)


@dataclass(frozen=True)
class LockoutGuard(Resource):
    """Refuses the base role's plan when it would cut fleetfab's own access (first among its resources)."""

    user: str
    reasons: tuple[str, ...]
    #: read the host's sudoers file for the login account's rule (an account that is no admin)
    probe_sudo: bool
    force: bool = False

    @property
    def key(self) -> str:
        return "lockout guard"

    def probe(self) -> str:
        if not self.probe_sudo:
            return "echo -"
        return f"if grep -qxF {q(sudo_rule(self.user))} {SUDOERS} 2>/dev/null; then echo granted; else echo -; fi"

    def found(self, output: str) -> list[str]:
        reasons = list(self.reasons)
        if output.strip() == "granted":
            reasons.append(f"{self.user!r} is fleetfab's login (ssh.user) and sudo only through {SUDOERS}, which would "
                           f"no longer list it: add it to base.admins")
        return reasons

    def compare(self, output: str) -> Change | None:
        reasons = self.found(output)
        if self.force or not reasons:
            return None
        why = "; ".join(reasons)
        return self.change(REFUSE, f"would lock fleetfab out: {why}; refused: fix the inventory, or run again with --force",
                           data=tuple(reasons))

    def note(self, output: str) -> str | None:
        reasons = self.found(output)
        if self.force and reasons:
            return "lockout guard overridden by --force: " + "; ".join(reasons)
        return None

    def fix(self, change: Change) -> str:
        # Never reached in a forced run: compare() found nothing to refuse.
        return "".join(f"echo {q('refused: ' + reason)} >&2\n" for reason in change.data) + "exit 3\n"
