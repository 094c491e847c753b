"""kubeadm's v1beta4 configuration files, rendered per node.

The first control-plane node gets init.yaml (InitConfiguration,
ClusterConfiguration, KubeletConfiguration); every other node gets
join.yaml (JoinConfiguration, with a controlPlane section on control-plane
nodes). A join needs a fresh token and CA hash (and a certificate key for a
control-plane node) that exist only for minutes: join.yaml holds
well-formed placeholders instead, so it can be validated and compared like
any file, and the join step writes the real values into a private copy
that lives only while `kubeadm join` runs. Secrets never sit in a file the
engine compares or shows.
"""

from __future__ import annotations

from fleetfab.resources import Directory, File
from fleetfab.roles.kubernetes import topology
from fleetfab.roles.kubernetes.containerd import SOCKET
from fleetfab.roles.kubernetes.settings import ENDPOINT_PORT

CONFIG_DIR = "/etc/fleetfab/kubernetes"
INIT_FILE = f"{CONFIG_DIR}/init.yaml"
JOIN_FILE = f"{CONFIG_DIR}/join.yaml"
#: placeholders of the right shape, replaced at join time (see kubeadm.join_script)
TOKEN_PLACEHOLDER = "000000.0000000000000000"
HASH_PLACEHOLDER = "sha256:" + "0" * 64
KEY_PLACEHOLDER = "0" * 64
#: the bootstrap token `kubeadm init` leaves behind (kubeadm's default is 24 hours)
INIT_TOKEN_TTL = "15m0s"
#: kubeadm checks what it can offline; a node without kubeadm yet has its files checked at init/join
VALIDATE = "if command -v kubeadm >/dev/null 2>&1; then kubeadm config validate --config %s; fi"


def values(ctx) -> dict:
    s = ctx.settings
    me = topology.node(ctx.host)
    planes = topology.control_planes(ctx.inventory)
    return {
        "node": me, "version": topology.version(s), "endpoint": topology.endpoint(s), "socket": SOCKET,
        "port": s["endpoint"].get("port", ENDPOINT_PORT), "cluster_name": s["cluster_name"], "dns_domain": s["dns_domain"],
        "pod_cidr": s["pod_cidr"], "service_cidr": s["service_cidr"], "image_repository": s["images"]["repository"],
        "cert_sans": [s["endpoint"]["name"], *([s["endpoint"]["vip"]] if s["endpoint"].get("vip") else []),
                      *(n.address for n in planes)],
        "swap": s["swap"], "token_ttl": INIT_TOKEN_TTL, "token": TOKEN_PLACEHOLDER, "ca_hash": HASH_PLACEHOLDER, "certificate_key": KEY_PLACEHOLDER,
    }


def resources(ctx):
    first = topology.first_control_plane(ctx.inventory)
    yield Directory(CONFIG_DIR, mode="0700")
    if first is not None and first.name == ctx.host.name:
        yield File(INIT_FILE, ctx.template("kubernetes/init.yaml.j2", **values(ctx)), mode="0600", validate=VALIDATE)
    else:
        yield File(JOIN_FILE, ctx.template("kubernetes/join.yaml.j2", **values(ctx)), mode="0600", validate=VALIDATE)
