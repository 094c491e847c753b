"""containerd from Debian, configured for kubelet.

The config schema follows the installed containerd (read from the host as an
export, after `prepare` installed it): version 2 for containerd 1.6/1.7,
version 3 for 2.x. Either way: the systemd cgroup driver, the sandbox image
kubeadm of the pinned minor expects, the snapshotter the inventory names,
and Debian's CNI plugin folder beside the one the CNI manifests install to.
"""

from __future__ import annotations

from fleetfab import shapes
from fleetfab.resources import File, Packages, Service
from fleetfab.role import Export
from roles.kubernetes.versions import containerd_schema

PACKAGES = ("containerd",)
CONFIG = "/etc/containerd/config.toml"
CRICTL = "/etc/crictl.yaml"
SOCKET = "unix:///run/containerd/containerd.sock"
RESTART = "restart containerd"
VERSION_EXPORT = "containerd_version"
VERSION_COMMAND = "containerd --version"
#: `config dump` loads the candidate as containerd would, and fails on what it cannot parse
VALIDATE = "containerd --config %s config dump >/dev/null"
CNI_BIN_DIRS = ("/opt/cni/bin", "/usr/lib/cni")
#: `containerd --version`: 'containerd <module> <version> <revision>'
VERSION_SHAPE = shapes.matching("a containerd version line", r"containerd [!-~]+ v?[0-9]+\.[0-9]+\.[0-9]+[!-~]*( [!-~]+)?")


def sandbox_image(settings: dict, version) -> str:
    return f"{settings['images']['repository']}/pause:{version.sandbox_tag}"


def exports() -> dict[str, Export]:
    # Read afresh each run: an upgraded containerd changes the schema at once.
    return {VERSION_EXPORT: Export(VERSION_COMMAND, remember=False, shape=VERSION_SHAPE)}


def config(ctx, version, version_text: str) -> str:
    schema = containerd_schema(version_text)
    return ctx.template(f"kubernetes/containerd-v{schema}.toml.j2", sandbox=sandbox_image(ctx.settings, version),
                        snapshotter=ctx.settings["snapshotter"], cni_bin_dirs=CNI_BIN_DIRS)


def resources(ctx, version):
    text = ctx.export(ctx.host.name, VERSION_EXPORT)
    yield File(CONFIG, config(ctx, version, text), validate=VALIDATE, notify=RESTART)
    yield File(CRICTL, ctx.template("kubernetes/crictl.yaml.j2", socket=SOCKET))
    yield Service("containerd")


def prepare():
    yield Packages(PACKAGES)


HANDLERS = {RESTART: "systemctl restart containerd"}
