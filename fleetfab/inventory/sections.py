"""The shape of an inventory file, written in the schema language."""

from __future__ import annotations

from fleetfab.schema import Any, Bool, Field, Int, IPAddress, ListOf, MapOf, Name, Network, Port, Record, Str

HOST_NAME = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
GROUP_NAME = r"[a-z0-9][a-z0-9_-]*"
#: an account to log in as (POSIX names, and the '@' and '.' of directory accounts)
LOGIN = Name(r"[A-Za-z_][A-Za-z0-9_.@-]{0,63}", "a user name")
#: a VM host's image or network, as named in its settings (roles/vmhost)
VM_PART = r"[a-z0-9][a-z0-9_-]*"

NAMES = ListOf(Str(describe="a name"))
#: a jump host (ssh's ProxyJump): another host of the inventory (fleetfab/inventory/jumps.py)
JUMP = Field(Str(HOST_NAME, describe="a host name"), doc="the host SSH goes through to reach this one (a bastion); the most specific setting wins")
#: role sections: each value is checked by its role's own settings (the loader's _check_vars)
ROLE_SECTIONS = MapOf(Any())
LAB_SIZE = {
    "cpus": Field(Int(1, 64), doc="virtual CPUs of the lab machine"),
    "memory": Field(Int(128, 262144), doc="memory of the lab machine, MiB"),
    "release": Field(Str(r"bookworm|trixie", describe="a Debian release fleetfab supports (bookworm or trixie)"),
                     doc="Debian release of the lab machine: its docker box is built for it"),
}

SSH = Record({
    "user": Field(LOGIN, doc="SSH user; non-root users work through sudo"),
    "port": Field(Port()),
    "identity": Field(Str(describe="a file path"), doc="private key file for SSH"),
    "known_hosts": Field(Str(describe="a file path"), doc="known_hosts file checked and, on first use, written"),
    "trust_on_first_use": Field(Bool(), doc="accept unknown host keys once (labs only)"),
    "connect_timeout": Field(Int(1, 600), doc="seconds to wait for a host to accept the connection"),
    "read_timeout": Field(Int(1, 3600), doc="seconds a host may take to answer a read (probes, exports); past it, it is reported as not answering"),
    "jump": JUMP,
})

RUN = Record({
    "parallel": Field(Int(1, 256), doc="hosts worked on at once"),
    "read_only": Field(Bool(), doc="this inventory only checks: bootstrap and every other change refuse to run (an ops host's copy)"),
    "ops_copy": Field(Bool(), doc="written by the controller role: the ops host's copy, which logs in as another account; "
                                  "what depends on the operator's own login (VM guests' first-boot seeds) is not compared"),
})

LAB = Record({
    "network": Field(Network()),
    "boxes": Field(MapOf(Name(r"[A-Za-z0-9][A-Za-z0-9._/:@-]*", "a box or image name"),
                         key=Name(r"[a-z][a-z0-9_-]*", "a provider name"))),
    **LAB_SIZE,
})

#: how a rolling upgrade (fab upgrade) treats a group's hosts (fleetfab/upgrade/batches.py)
UPGRADE = Record({
    "down_together": Field(Int(1, 10000), doc="at most this many of the group's hosts are upgraded (and so may be down) at once"),
})

GROUP = Record({
    "children": Field(NAMES),
    "roles": Field(NAMES),
    "vars": Field(ROLE_SECTIONS),
    "jump": JUMP,
    "upgrade": Field(UPGRADE, doc="rolling upgrades: how many of the group's hosts may be down together"),
})

#: a guest of a VM host (roles/vmhost): the VM that this inventory host is
VM = Record({
    "host": Field(Str(HOST_NAME, describe="a host name"), required=True, doc="the VM host (role vmhost) that runs this guest"),
    "cpus": Field(Int(1, 256), doc="virtual CPUs"),
    "memory": Field(Int(128, 4194304), doc="memory, MiB"),
    "disk": Field(Str(r"[1-9][0-9]*[MGT]", describe="a size such as 512M, 20G or 1T"), doc="system disk size (it may grow, never shrink)"),
    "image": Field(Str(VM_PART, describe="an image name"), doc="base image, one of the VM host's `images` (default: its first)"),
    "network": Field(Str(VM_PART, describe="a network name"), doc="network, one of the VM host's `networks` (default: its first)"),
    "mac": Field(Str(r"([0-9a-f]{2}:){5}[0-9a-f]{2}", describe="a MAC address in lower case"), doc="default: derived from the name"),
    "boot_timeout": Field(Int(10, 3600), doc="seconds a new or restarted guest may take to answer SSH"),
})

HOST = Record({
    "address": Field(IPAddress(), required=True),
    "user": Field(LOGIN),
    "port": Field(Port()),
    "jump": JUMP,
    "groups": Field(NAMES),
    "roles": Field(NAMES),
    "vars": Field(ROLE_SECTIONS),
    "lab": Field(Record(LAB_SIZE)),
    "vm": Field(VM, doc="this host is a guest of a VM host"),
})

INVENTORY = Record({
    "roles_path": Field(ListOf(Str(r".+", describe="a folder path")),
                        doc="folders of your own roles, each relative to this file (fleetfab.registry)"),
    "ssh": Field(SSH),
    "run": Field(RUN),
    "lab": Field(LAB),
    "vars": Field(ROLE_SECTIONS),
    "groups": Field(MapOf(GROUP, key=Str(GROUP_NAME, describe="a group name (a-z, 0-9, _ and -)"))),
    "hosts": Field(MapOf(HOST, key=Str(HOST_NAME, describe="a host name (a-z, 0-9 and -)")), required=True),
})
