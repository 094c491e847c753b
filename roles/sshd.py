"""The base role's sshd: the algorithms it offers, who may forward, and root's keys.

The algorithms are those ssh-audit 3.9 passes without a failure or a warning,
but for the curve25519 key exchange, kept because paramiko (fleetfab's own
client) has no post-quantum exchange. Each host gets what its own OpenSSH
knows (`sshd -t` refuses a name it does not): OpenSSH 10 (Debian 13) offers
ML-KEM's hybrid first, as its own defaults do; OpenSSH 9.2 (Debian 12) has
only sntrup761's.

OpenSSH 9.8 and later penalise a source address whose connections fail
(failed logins, connections that never log in): for a while every new
connection from it is refused (PerSourcePenalties, on by default). fleetfab
keeps OpenSSH's penalties and exempts only the addresses the inventory names
(`base.ssh.penalty_exempt`, none by default): an audit tool's burst, or a
monitoring host's probes, would otherwise lock that address out.

Root's authorized_keys holds exactly the inventory's `root_keys`, and the
key fleetfab itself logs in with where it logs in as root, so fleetfab never
locks itself out and any other key found there is drift.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

ROOT_KEYS = "/root/.ssh/authorized_keys"

#: the first OpenSSH with ML-KEM's hybrid exchange (its default from 10.0)
MLKEM_SINCE = "9.9"
#: the first OpenSSH with PerSourcePenalties (and PerSourcePenaltyExemptList)
PENALTIES_SINCE = "9.8"
#: key exchanges without a post-quantum part, kept for paramiko
CLASSIC_KEX = ("curve25519-sha256", "curve25519-sha256@libssh.org")
#: OpenSSH 10's post-quantum hybrids, in its own order of preference
MLKEM_KEX = ("mlkem768x25519-sha256", "sntrup761x25519-sha512", "sntrup761x25519-sha512@openssh.com")

ALGORITHMS = {
    "host_key_algorithms": ("ssh-ed25519", "ssh-ed25519-cert-v01@openssh.com"),
    # Post-quantum hybrid first: OpenSSH clients take it, paramiko takes curve25519.
    "kex_algorithms": ("sntrup761x25519-sha512@openssh.com", *CLASSIC_KEX),
    "ciphers": ("chacha20-poly1305@openssh.com", "aes256-gcm@openssh.com", "aes128-gcm@openssh.com",
                "aes256-ctr", "aes192-ctr", "aes128-ctr"),
    # Encrypt-then-MAC only, with tags of 128 bits or more.
    "macs": ("hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com", "umac-128-etm@openssh.com"),
}


def algorithms(release) -> dict[str, tuple[str, ...]]:
    """The algorithms this host's OpenSSH offers: ML-KEM's hybrid first where it knows it."""
    if not release.renders_at_least("openssh-server", MLKEM_SINCE):
        return dict(ALGORITHMS)
    return {**ALGORITHMS, "kex_algorithms": (*MLKEM_KEX, *CLASSIC_KEX)}


def penalties(release, settings: dict) -> dict:
    """Template values for PerSourcePenalties: whether this sshd has them, and who is exempt.

    An older sshd refuses the keyword, so the exemptions are written only where it exists.
    """
    return {"penalties": release.renders_at_least("openssh-server", PENALTIES_SINCE),
            "penalty_exempt": tuple(settings.get("penalty_exempt") or ())}


class NoLoginKey(Exception):
    """fleetfab logs in as root but its public key cannot be known here."""


def root_keys(ctx) -> list[str]:
    """Root's keys: the inventory's, then fleetfab's own login key if it logs in as root."""
    keys = list(ctx.settings.get("root_keys") or [])
    login = login_key(ctx)
    if login and not any(same_key(login, key) for key in keys):
        keys.append(login)
    return keys


def login_key(ctx) -> str | None:
    """The public key fleetfab logs in to this host as root with, or None if it logs in as another account.

    An ops host's copy of the inventory logs in as its own account: the
    operator's key is written into that copy (`login_key`, roles/controller).
    """
    recorded = ctx.settings.get("login_key")
    if recorded:
        return recorded
    if ctx.host.user != "root" or ctx.inventory.ops_copy:
        return None
    identity = ctx.inventory.ssh.identity
    if identity is None:
        raise NoLoginKey("fleetfab logs in as root but the inventory names no ssh.identity to keep in root's keys")
    return public_line(identity)


def public_line(identity: Path) -> str:
    """`<type> <base64> fleetfab-login` of a private key file, read with paramiko (or its .pub beside it)."""
    from fleetfab.ssh import loaded_identity

    key = loaded_identity(identity)
    if key is not None:
        return f"{key.get_name()} {key.get_base64()} fleetfab-login"
    public = Path(f"{identity}.pub")
    try:
        kind, data = public.read_text().split()[:2]
    except (OSError, ValueError):
        raise NoLoginKey(f"fleetfab's login key {identity} cannot be read without its passphrase, "
                         f"and {public} is not beside it: root's keys are left as they are") from None
    return f"{kind} {data} fleetfab-login"


def same_key(a: str, b: str) -> bool:
    """Same type and key material, whatever the comment."""
    return a.split()[:2] == b.split()[:2]


def gateway_access(inventory, host) -> dict:
    """Who may forward through `host`, and to where: only to the SSH ports of the hosts
    reached through it (VM guests, hosts whose jump host it is), only for accounts that log in there as root or
    may become root, and the ops host's drift account; nobody on other hosts."""
    from fleetfab.roles.controller.access import ops_hosts
    from fleetfab.roles.controller.settings import ACCOUNT

    behind = [h for h in inventory.hosts.values() if h.gateway is not None and h.gateway.name == host.name]
    if not behind:
        return {"jumpers": [], "destinations": []}
    base = host.settings("base")
    jumpers = {host.user, *(a["name"] for a in base.get("admins", []) if a.get("sudo", True))}
    if base["ssh"]["permit_root_login"] != "no":
        jumpers.add("root")
    if ops_hosts(inventory):
        jumpers.add(ACCOUNT)
    return {"jumpers": sorted(jumpers), "destinations": [destination(h) for h in behind]}


def destination(host) -> str:
    """`address:port` as PermitOpen reads it (an IPv6 address in brackets)."""
    try:
        v6 = ipaddress.ip_address(host.address).version == 6
    except ValueError:
        v6 = False
    if v6:
        return f"[{host.address}]:{host.port}"
    return f"{host.address}:{host.port}"
