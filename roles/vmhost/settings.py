"""A VM host's settings: its pool, networks, base images and capacity; a guest's defaults."""

from fleetfab.schema import AbsolutePath, Bool, Field, Int, Interface, IPAddress, MapOf, Record, Str, Url

ROLE = "vmhost"
NAME = r"[a-z0-9][a-z0-9_-]*"
#: a kernel command line, written into the domain's XML: words of anything but spaces, '<', '>' and '&'
CMDLINE = r"(?=.{1,2048}$)[^\s<>&]+( [^\s<>&]+)*"

POOL = Record({
    "type": Field(Str(r"dir|logical", describe="'dir' or 'logical'"), doc="a folder (default) or an LVM volume group"),
    "path": Field(AbsolutePath(), doc="the folder of a dir pool"),
    "volume_group": Field(Str(NAME, describe="a volume group name"), doc="the volume group of a logical pool"),
})

NETWORK = Record({
    "mode": Field(Str(r"nat|route|bridge", describe="'nat', 'route' or 'bridge'"), required=True,
                  doc="nat/route: a libvirt network with its own range; bridge: guests on a bridge of the host's network"),
    "address": Field(Interface(), doc="nat/route: the host's address on the network, with its prefix (198.18.100.1/24)"),
    "bridge": Field(Str(r"[a-z][a-z0-9_-]{0,14}", describe="an interface name"), doc="bridge mode: the host's existing bridge guests join (fleetfab never makes one)"),
    "gateway": Field(IPAddress(), doc="the guests' default route (default: the host's address on a nat/route network)"),
    "dns": Field(IPAddress(), doc="the guests' name server (default: the gateway)"),
})

IMAGE = Record({
    "url": Field(Url(), doc="downloaded once by the VM host, checked against sha256"),
    "sha256": Field(Str(r"[0-9a-f]{64}", describe="a SHA-256 in hex"), doc="of the file at url"),
    "file": Field(Str(describe="a file path"), doc="a qcow2 on the operator's machine, copied to the VM host (relative to the inventory)"),
    "kernel": Field(Str(describe="a file path"), doc="a kernel on the operator's machine, for images booted without a bootloader"),
    "initrd": Field(Str(describe="a file path"), doc="its initrd"),
    "cmdline": Field(Str(CMDLINE, describe="a kernel command line (one line, no '<', '>' or '&')"), doc="its kernel command line"),
})

SETTINGS = Record({
    "pool": Field(POOL, doc="where base images and guest disks live"),
    "networks": Field(MapOf(NETWORK, key=Str(NAME, describe="a network name")), doc="networks guests join"),
    "images": Field(MapOf(IMAGE, key=Str(NAME, describe="an image name")), doc="base images guests' disks are overlays on"),
    "capacity": Field(Record({
        "cpus": Field(Int(1, 4096), doc="CPUs guests may use before overcommit"),
        "memory": Field(Int(128, 1 << 32), doc="memory (MiB) guests may use before overcommit"),
    }), doc="what the host offers its guests"),
    "overcommit": Field(Record({
        "cpus": Field(Str(r"[0-9]+(\.[0-9]+)?", describe="a ratio such as 4 or 1.5"), doc="declared guest CPUs per host CPU"),
        "memory": Field(Str(r"[0-9]+(\.[0-9]+)?", describe="a ratio such as 1 or 1.2"), doc="declared guest memory per MiB of capacity"),
    }), doc="how far guests may be declared beyond capacity"),
    "emulation": Field(Str(r"kvm|qemu", describe="'kvm' or 'qemu'"),
                       doc="kvm (hardware) or qemu (software emulation, for hosts without VT-x/AMD-V)"),
    "in_container": Field(Bool(), doc="libvirt runs in a container (labs): QEMU without its own mount namespaces"),
})

DEFAULTS = {
    "pool": {"type": "dir", "path": "/var/lib/libvirt/images/fleetfab"},
    "networks": {},
    "images": {},
    "overcommit": {"cpus": "4", "memory": "1"},
    "emulation": "kvm",
    "in_container": False,
}

GUEST_DEFAULTS = {"cpus": 1, "memory": 1024, "disk": "10G", "boot_timeout": 600}
