"""containerd from Debian, configured for kubelet.

The config schema follows the installed containerd (read from the host as an
export, after `prepare` installed it): version 2 for containerd 1.6/1.7,
version 3 for 2.x (`bin_dirs`, a list, from 2.1; 2.0 reads one `bin_dir`).
Either way: the systemd cgroup driver, the sandbox image kubeadm of the
pinned minor expects, the snapshotter the inventory names, and the CNI
plugin folder kubernetes-cni installs to.

A candidate file is checked by what containerd itself reads from it: its
`config dump` (defaults merged, unknown keys kept as they are, exit 0 even
for a file of the wrong schema) must show the effective values this role
means, each under its own table, before the file replaces the old one.
"""

from __future__ import annotations

from fleetfab.resources import File, Packages, Service
from fleetfab.role import Export
from fleetfab.shell import q
from fleetfab.roles.kubernetes.versions import containerd_schema, containerd_version

PACKAGES = ("containerd",)
CONFIG = "/etc/containerd/config.toml"
CRICTL = "/etc/crictl.yaml"
SOCKET = "unix:///run/containerd/containerd.sock"
RESTART = "restart containerd"
VERSION_EXPORT = "containerd_version"
VERSION_COMMAND = "containerd --version"
#: where kubernetes-cni (and Flannel's init container) put the CNI plugins
CNI_BIN_DIRS = ("/opt/cni/bin",)
CNI_CONF_DIR = "/etc/cni/net.d"
V2_CRI = '"io.containerd.grpc.v1.cri"'

#: `table key=value` for every key line of a TOML dump, spaces dropped and quotes made double,
#: then every wanted line (FF_WANT) looked up: the missing ones are named and fail the check
NORMALISE = r"""
BEGIN { n = split(ENVIRON["FF_WANT"], want, "\n") }
{ line = $0; gsub(/[ \t]/, "", line); gsub(/'/, "\"", line) }
line ~ /^\[.*\]$/ { table = substr(line, 2, length(line) - 2); next }
line ~ /=/ { seen[table " " line] = 1 }
END {
  bad = 0
  for (i = 1; i <= n; i++) if (want[i] != "" && !(want[i] in seen)) { print "containerd does not read " want[i] > "/dev/stderr"; bad = 1 }
  exit bad
}
"""


def sandbox_image(settings: dict, version) -> str:
    return f"{settings['images']['repository']}/pause:{version.sandbox_tag}"


def exports() -> dict[str, Export]:
    # Read afresh each run: an upgraded containerd changes the schema at once.
    return {VERSION_EXPORT: Export(VERSION_COMMAND, remember=False)}


def _list(values) -> str:
    return "[" + ",".join(f'"{v}"' for v in values) + "]"


def effective(version_text: str, sandbox: str, snapshotter: str) -> list[str]:
    """What containerd's dump must show, as NORMALISE prints it: `table key=value`."""
    if containerd_schema(version_text) == 2:
        cri = f"plugins.{V2_CRI}"
        return [f'{cri} sandbox_image="{sandbox}"', f"{cri}.containerd.runtimes.runc.options SystemdCgroup=true",
                f'{cri}.containerd snapshotter="{snapshotter}"', f'{cri}.cni bin_dir="{CNI_BIN_DIRS[0]}"',
                f'{cri}.cni conf_dir="{CNI_CONF_DIR}"']
    images, runtime = 'plugins."io.containerd.cri.v1.images"', 'plugins."io.containerd.cri.v1.runtime"'
    bins = f"bin_dirs={_list(CNI_BIN_DIRS)}" if bin_dirs_list(version_text) else f'bin_dir="{CNI_BIN_DIRS[0]}"'
    return [f'{images}.pinned_images sandbox="{sandbox}"', f"{runtime}.containerd.runtimes.runc.options SystemdCgroup=true",
            f'{images} snapshotter="{snapshotter}"', f"{runtime}.cni {bins}", f'{runtime}.cni conf_dir="{CNI_CONF_DIR}"']


def bin_dirs_list(version_text: str) -> bool:
    """containerd 2.1 reads CNI folders as a list, `bin_dirs`; 2.0 only `bin_dir`."""
    return containerd_version(version_text) >= (2, 1, 0)


def validate_command(wanted: list[str]) -> str:
    """The File check: containerd's own dump of the candidate (%s) shows every wanted value."""
    return f"containerd --config %s config dump 2>/dev/null | FF_WANT={q(chr(10).join(wanted))} awk {q(NORMALISE)}"


def config(ctx, version, version_text: str) -> str:
    schema = containerd_schema(version_text)
    return ctx.template(f"kubernetes/containerd-v{schema}.toml.j2", sandbox=sandbox_image(ctx.settings, version),
                        snapshotter=ctx.settings["snapshotter"], cni_bin_dirs=CNI_BIN_DIRS, cni_conf_dir=CNI_CONF_DIR,
                        bin_dirs_list=bin_dirs_list(version_text))


def resources(ctx, version):
    text = ctx.export(ctx.host.name, VERSION_EXPORT)
    wanted = effective(text, sandbox_image(ctx.settings, version), ctx.settings["snapshotter"])
    yield File(CONFIG, config(ctx, version, text), validate=validate_command(wanted), notify=RESTART)
    yield File(CRICTL, ctx.template("kubernetes/crictl.yaml.j2", socket=SOCKET))
    yield Service("containerd")


def prepare():
    yield Packages(PACKAGES)


HANDLERS = {RESTART: "systemctl restart containerd"}
