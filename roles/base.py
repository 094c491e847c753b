"""The base role: what every host of the fleet has in common.

Its name and the fleet's names in /etc/hosts, the operators' accounts and
keys, an sshd that takes keys only, the packages and kernel settings the
inventory asks for, synchronised time, and optionally an apt proxy.
"""

from __future__ import annotations

from fleetfab.resources import Absent, Command, Directory, File, Packages, Service, Sysctl, User
from fleetfab.resources.line import SYSCTL_NAME
from fleetfab.resources.blocked import Blocked
from fleetfab.role import Role, settings_problem
from fleetfab.schema import (AbsolutePath, Bool, Field, HostName, Int, IPAddress, ListOf, MapOf, Name, Network, OneOf,
                             PackageName, Record, Str, Url)
from fleetfab.shell import q
from fleetfab.roles import lockout, sshd
from fleetfab.roles.controller.access import drift_account

SSHD_DROP_IN = "/etc/ssh/sshd_config.d/00-fleetfab.conf"
SUDOERS = lockout.SUDOERS
APT_PROXY = "/etc/apt/apt.conf.d/01fleetfab-proxy"
TIMESYNCD_DROP_IN = "/etc/systemd/timesyncd.conf.d/fleetfab.conf"
CONTAINER_OVERRIDE = "/etc/systemd/system/systemd-timesyncd.service.d/fleetfab-container.conf"

#: a kernel parameter's value: a number, or words as /proc/sys shows them ("4096 131072 6291456")
SYSCTL_VALUE = OneOf((Int(), Str(r"\S(.*\S)?", describe="a value without surrounding spaces")),
                     describe="a number or a value")
#: a time server: a host name or an address
TIME_SERVER = OneOf((HostName(), IPAddress()), describe="a host name or an IP address")

ADMIN = Record({
    "name": Field(Str(r"[a-z_][a-z0-9_-]*", describe="a user name"), required=True),
    "keys": Field(ListOf(Str(r"(ssh-(ed25519|rsa)|ecdsa-sha2-nistp\d+|sk-\S+) \S+( .*)?", describe="an SSH public key line")),
                  doc="authorized keys: exactly these"),
    "shell": Field(AbsolutePath("an absolute path to a shell"), doc="login shell (default /bin/bash)"),
    "sudo": Field(Bool(), doc="may run any command as root, without a password (admins have none)"),
})


class Base(Role):
    name = "base"
    settings = Record({
        "hostname": Field(Str(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?", describe="a host name"), doc="default: the inventory name"),
        "domain": Field(Name(r"[a-z0-9][a-z0-9.-]*", "a DNS domain"), doc="added to names in /etc/hosts"),
        "admins": Field(ListOf(ADMIN), doc="operators' accounts"),
        "root_keys": Field(ADMIN.fields["keys"].kind,
                           doc="root's authorized keys: exactly these, and fleetfab's own login key where it logs in as root"),
        "login_key": Field(ADMIN.fields["keys"].kind.item,
                           doc="fleetfab's login key for root's keys where ssh.identity is not at hand (written in an ops host's copy)"),
        "packages": Field(ListOf(PackageName()), doc="Debian packages, besides openssh-server, sudo and systemd-timesyncd"),
        "sysctls": Field(MapOf(SYSCTL_VALUE, key=Name(SYSCTL_NAME, "a kernel parameter's dotted name, such as net.ipv4.ip_forward")),
                         doc="kernel parameters: set now, kept in /etc/sysctl.d/90-fleetfab.conf"),
        "ssh": Field(Record({
            "permit_root_login": Field(Str(r"prohibit-password|no", describe="'prohibit-password' or 'no'"),
                                       doc="root logs in by key only, or not at all"),
            "penalty_exempt": Field(ListOf(OneOf((IPAddress(), Network()), describe="an IP address or a network")),
                                    doc="addresses OpenSSH 9.8+ never penalises for failed connections "
                                        "(PerSourcePenaltyExemptList); default none"),
        }), doc="sshd: public keys only, never passwords"),
        "time": Field(doc="time synchronisation with systemd-timesyncd", kind=Record({
            "servers": Field(ListOf(TIME_SERVER), doc="NTP servers; empty keeps the distribution's"),
            "in_container": Field(Bool(), doc="run timesyncd even inside a container (labs)"),
        })),
        "apt_proxy": Field(Url(), doc="proxy for apt"),
        "extra_hosts": Field(MapOf(IPAddress(), key=HostName()), doc="more /etc/hosts entries: name -> address"),
    })
    defaults = {
        "admins": [],
        "root_keys": [],
        "packages": [],
        "sysctls": {},
        "ssh": {"permit_root_login": "prohibit-password"},
        "time": {"servers": [], "in_container": False},
    }

    def check(self, inventory):
        for host in inventory.with_role(self.name):
            names = [a["name"] for a in host.settings("base")["admins"]]
            for name in {n for n in names if names.count(n) > 1}:
                yield settings_problem(inventory, host, "base", "admins", f"admin {name!r} is listed twice")

    def resources(self, ctx):
        s = ctx.settings
        yield lockout.guard(ctx)
        yield Packages(("openssh-server", "sudo", "systemd-timesyncd", *s["packages"]))
        yield from self.identity(ctx)
        for admin in s["admins"]:
            yield from self.admin(admin)
        yield self.sudoers(s["admins"])
        yield from drift_account(ctx)
        yield from self.root_keys(ctx)
        yield from self.sshd(ctx)
        for name, value in s["sysctls"].items():
            yield Sysctl(name, value)
        yield from self.time_sync(s["time"])
        yield self.apt_proxy(s.get("apt_proxy"))

    def handlers(self, ctx):
        return {
            "reload sshd": "systemctl reload ssh",
            "restart timesyncd": "systemctl daemon-reload && systemctl restart systemd-timesyncd",
        }

    # -- pieces -----------------------------------------------------------------

    def identity(self, ctx):
        name = hostname(ctx.host)
        yield File("/etc/hostname", f"{name}\n")
        yield Command("set hostname", run=f"hostname {q(name)}", unless=f'[ "$(hostname)" = {q(name)} ]')
        yield File("/etc/hosts", ctx.template("base/hosts.j2", entries=hosts_entries(ctx.inventory, ctx.host)))

    def admin(self, admin: dict):
        user = User(admin["name"], shell=admin.get("shell", "/bin/bash"))
        home = user.home_dir
        yield user
        yield Directory(f"{home}/.ssh", owner=user.name, group=user.name, mode="0700")
        keys = "".join(f"{key}\n" for key in admin.get("keys", []))
        yield File(f"{home}/.ssh/authorized_keys", keys, owner=user.name, group=user.name, mode="0600")

    def sudoers(self, admins: list[dict]):
        allowed = [a["name"] for a in admins if a.get("sudo", True)]
        content = "# Managed by fleetfab.\n" + "".join(f"{lockout.sudo_rule(name)}\n" for name in allowed)
        return File(SUDOERS, content, mode="0440", validate="visudo -cf %s")

    def root_keys(self, ctx):
        """Root's keys are managed like an admin's: a key planted there is drift."""
        yield Directory("/root/.ssh", owner="root", group="root", mode="0700")
        try:
            keys = sshd.root_keys(ctx)
        except sshd.NoLoginKey as exc:
            yield Blocked(f"file {sshd.ROOT_KEYS}", str(exc), keep=sshd.ROOT_KEYS)
            return
        yield File(sshd.ROOT_KEYS, "".join(f"{key}\n" for key in keys), owner="root", group="root", mode="0600")

    def sshd(self, ctx):
        content = ctx.template("base/sshd.conf.j2", permit_root_login=ctx.settings["ssh"]["permit_root_login"],
                               **sshd.algorithms(ctx.release), **sshd.penalties(ctx.release, ctx.settings["ssh"]),
                               **sshd.gateway_access(ctx.inventory, ctx.host))
        yield File(SSHD_DROP_IN, content, validate="sshd -t -f %s", notify="reload sshd")
        yield Service("ssh")

    def time_sync(self, time: dict):
        servers = time["servers"]
        if servers:
            content = "# Managed by fleetfab.\n[Time]\nNTP=" + " ".join(servers) + "\n"
            yield File(TIMESYNCD_DROP_IN, content, notify="restart timesyncd")
        else:
            yield Absent(TIMESYNCD_DROP_IN, notify="restart timesyncd")
        if time["in_container"]:
            # timesyncd skips containers; a lab wants it running all the same.
            yield File(CONTAINER_OVERRIDE, "[Unit]\nConditionVirtualization=\n", notify="restart timesyncd")
        else:
            yield Absent(CONTAINER_OVERRIDE, notify="restart timesyncd")
        yield Service("systemd-timesyncd")

    def apt_proxy(self, url: str | None):
        if url:
            return File(APT_PROXY, f'Acquire::http::Proxy "{url}";\nAcquire::https::Proxy "{url}";\n')
        return Absent(APT_PROXY)


def hostname(host) -> str:
    return host.settings("base").get("hostname") or host.name


def hosts_entries(inventory, this) -> list[tuple[str, list[str]]]:
    """(address, names) for every inventory host, and the extra entries."""
    entries = []
    for host in inventory.hosts.values():
        name = hostname(host)
        domain = host.settings("base").get("domain") or this.settings("base").get("domain")
        entries.append((host.address, [f"{name}.{domain}", name] if domain else [name]))
    for name, address in (this.settings("base").get("extra_hosts") or {}).items():
        entries.append((address, [name]))
    return entries
