"""Every tunable of the kubernetes role, with its documentation and defaults.

Every value is cluster-wide and belongs on the group that holds the
cluster: `control_plane` names the control-plane nodes in order (the first
one runs `kubeadm init`); every other node of the role is a worker.
"""

from __future__ import annotations

from fleetfab.inventory.sections import HOST_NAME
from fleetfab.schema import Bool, Choice, Field, Int, IPAddress, ListOf, Network, Port, Record, Str, Url
from fleetfab.roles.bind9.settings import DOMAIN
from fleetfab.roles.kubernetes.versions import PATTERN

ROLE = "kubernetes"
#: a registry host (and port) with a path, never starting with '-'
IMAGE_REPOSITORY = r"[a-z0-9][a-z0-9.:-]*(/[a-z0-9._-]+)*"

SOURCE = Record({
    "kind": Field(Choice(("repository", "bundle")), required=True,
                  doc="repository: the per-minor package repository; bundle: .deb files from a folder on the operator's machine"),
    "url": Field(Url(r".*\{minor\}.*", describe="an http(s) URL with {minor} in it"),
                 doc="the repository for one minor, {minor} standing for 1.35 and so on (kind: repository)"),
    "key": Field(Str(r"\S+", describe="a file path"),
                 doc="the repository's signing key on the operator's machine, armored or binary; copied to /etc/apt/keyrings"),
    "reachable": Field(Bool(), doc="false: the hosts cannot reach the source (a lab); the source is written disabled, "
                                   "kubeadm, kubelet and kubectl are not installed, and each run says so"),
    "path": Field(Str(r"\S+", describe="a folder path"),
                  doc="kind: bundle: a folder of kubeadm, kubelet, kubectl (and dependency) .deb files, copied to the nodes"),
})

IMAGES = Record({
    "repository": Field(Str(IMAGE_REPOSITORY, describe="an image repository such as registry.example.com/k8s"),
                        required=True, doc="kubeadm's imageRepository; the sandbox image comes from it too"),
    "archives": Field(Str(r"\S+", describe="a folder path"),
                      doc="a folder of image archives (docker save or OCI) on the operator's machine, copied to every node "
                          "and imported with `ctr -n k8s.io images import`: nothing is pulled"),
})

ENDPOINT = Record({
    "name": Field(Str(DOMAIN, describe="a DNS name"), required=True,
                  doc="controlPlaneEndpoint; the bind9 role serves an A record per control-plane node (or the VIP)"),
    "port": Field(Port(), doc="the API servers' port (default 6443)"),
    "vip": Field(IPAddress(), doc="a virtual address in front of the API servers; the name then points at it alone"),
})

CNI = Record({
    "plugin": Field(Choice(("flannel",)), required=True,
                    doc="flannel (VXLAN), from a manifest kept in the project; Calico is not offered (see README)"),
    "repository": Field(Str(IMAGE_REPOSITORY, describe="an image repository"), required=True,
                        doc="where the CNI's images are pulled from (their tags are pinned in the project's manifest)"),
})

SETTINGS = Record({
    "control_plane": Field(ListOf(Str(HOST_NAME, describe="a host name")), required=True,
                           doc="the control-plane nodes, by inventory name; the first one is initialised, the others join it"),
    "version": Field(Str(PATTERN, describe="a version such as 1.35.9"), required=True,
                     doc="exactly this Kubernetes version, on every node"),
    "cluster_name": Field(Str(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?", describe="a name"), doc="kubeadm's clusterName"),
    "dns_domain": Field(Str(DOMAIN, describe="a DNS domain"), doc="the cluster's service domain"),
    "pod_cidr": Field(Network(), required=True, doc="the pods' network (podSubnet); apart from the mesh and the services"),
    "service_cidr": Field(Network(), required=True, doc="the services' network (serviceSubnet)"),
    "endpoint": Field(ENDPOINT, required=True, doc="where every node and operator reaches the API"),
    "cni": Field(CNI, required=True, doc="the pod network, from a manifest kept in the project, over the mesh interface"),
    "swap": Field(Choice(("off", "NoSwap", "LimitedSwap")),
                  doc="off: swap disabled now and at boot; NoSwap or LimitedSwap: kubelet's failSwapOn false with that swapBehavior"),
    "source": Field(SOURCE, required=True, doc="where kubeadm, kubelet and kubectl come from"),
    "images": Field(IMAGES, required=True, doc="where the control-plane and sandbox images come from"),
    "snapshotter": Field(Choice(("overlayfs", "native")), doc="containerd's snapshotter; native where overlay cannot mount (containers)"),
    "cert_margin_days": Field(Int(1, 365), doc="drift warns when a control-plane certificate expires within this many days"),
})

DEFAULTS = {
    "cluster_name": "kubernetes",
    "dns_domain": "cluster.local",
    "swap": "off",
    "snapshotter": "overlayfs",
    "cert_margin_days": 30,
}

ENDPOINT_PORT = 6443
