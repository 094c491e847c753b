"""The kubernetes role: kubeadm nodes over the WireGuard mesh.

prepare   containerd from Debian
exports   the installed containerd's version (its config schema follows it)
resources the prerequisites (swap, modules, sysctls), containerd's config
          and crictl's, the package source (key, source, pin) or bundle,
          kubeadm/kubelet/kubectl at the pinned version and held, image
          archives imported, kubeadm's config files for this node; on a
          control-plane node its certificates' expiry, and on the first one
          the CNI manifest (applied once a cluster runs) and every node's
          readiness and version
records   the API endpoint name: an A record per control-plane node, or the VIP
handlers  restart containerd

The cluster itself (init, joins, upgrades, removal) is driven by
roles/kubernetes/cluster.py, one step at a time, from `fab kubernetes.*`.
"""

from __future__ import annotations

import functools

from fleetfab.dns import DnsRecord
from fleetfab.resources import Directory
from fleetfab.role import Role, needs_exports
from fleetfab.roles.kubernetes import cni, containerd, kubeadmconfig, prereqs, topology
from fleetfab.roles.kubernetes.health import CertificatesFresh, NodeDrained, NodeReady, NodesHealthy, NodeUncordoned
from fleetfab.roles.kubernetes.checks import problems
from fleetfab.roles.kubernetes.copied import CopiedFile
from fleetfab.roles.kubernetes.images import REMOTE_DIR, ImportedImages, archives, names_in, remote_path
from fleetfab.roles.kubernetes.packages import BUNDLE_DIR, PACKAGES, KubePackages, available, resolve, source_resources
from fleetfab.roles.kubernetes.versions import containerd_problem
from fleetfab.roles.kubernetes.settings import DEFAULTS, ROLE, SETTINGS


class Kubernetes(Role):
    name = ROLE
    after = ("base", "wireguard", "bind9")
    settings = SETTINGS
    defaults = DEFAULTS

    def check(self, inventory):
        return problems(inventory)

    def after_bootstrap(self, inventory, hosts):
        """`fab -H k8s bootstrap` ends with kubernetes.up (init once, joins one at a time) once the
        nodes have kubeadm; with an unreachable source (the lab) the nodes' notes say why it waits."""
        nodes = [h for h in hosts if h.has_role(ROLE)]
        if not nodes or not all(h.settings(ROLE)["source"].get("reachable", True) for h in nodes):
            return None
        from fleetfab.roles.kubernetes.tasks import up

        return functools.partial(up, ",".join(h.name for h in nodes))

    def prepare(self, ctx):
        yield from containerd.prepare()

    def exports(self, ctx):
        return containerd.exports()

    def resources(self, ctx):
        s = ctx.settings
        version = topology.version(s)
        yield from prereqs.resources(s)
        yield from needs_exports(lambda: containerd.resources(ctx, version), f"file {containerd.CONFIG}")
        yield from source_resources(ctx, version)
        yield from needs_exports(lambda: [self._packages(ctx, version)], f"packages {' '.join(PACKAGES)} {version} (held)")
        yield from self._images(ctx)
        yield from kubeadmconfig.resources(ctx)
        me = topology.node(ctx.host)
        if me.control_plane:
            yield CertificatesFresh(s["cert_margin_days"])
        first = topology.first_control_plane(ctx.inventory)
        if first is not None and first.name == ctx.host.name:
            yield from cni.resources(ctx)
            yield NodesHealthy(str(version), tuple((n.name, n.address) for n in topology.nodes(ctx.inventory)))

    def _packages(self, ctx, version) -> KubePackages:
        """Installed only where this host's containerd can run the pinned minor."""
        s = ctx.settings
        bundle = BUNDLE_DIR if s["source"]["kind"] == "bundle" else None
        runtime = containerd_problem(version, ctx.export(ctx.host.name, containerd.VERSION_EXPORT))
        return KubePackages(str(version), installable=available(s), bundle=bundle, runtime_problem=runtime)

    def _images(self, ctx):
        folder = ctx.settings["images"].get("archives")
        if not folder:
            return
        yield Directory(REMOTE_DIR)
        for archive in archives(resolve(ctx.inventory, folder)):
            yield CopiedFile(str(archive), remote_path(archive))
            yield ImportedImages(remote_path(archive), names_in(archive), ctx.settings["snapshotter"])

    def health(self, ctx):
        return [NodeReady(f"node {ctx.host.name} Ready", ctx.host.name)]

    def down_together(self, members):
        """One node drained at a time, as kubeadm upgrades them."""
        return 1

    def out_of_service(self, inventory, host):
        first = topology.first_control_plane(inventory)
        return {first.name: [NodeDrained(host.name)]} if first else {}

    def back_in_service(self, inventory, host):
        first = topology.first_control_plane(inventory)
        return {first.name: [NodeUncordoned(host.name)]} if first else {}

    def handlers(self, ctx):
        return dict(containerd.HANDLERS)

    def dns_records(self, ctx):
        """The endpoint name: at the VIP, or at every control-plane node's mesh address."""
        hosts = ctx.inventory.with_role(ROLE)
        if not hosts:
            return []
        endpoint = hosts[0].settings(ROLE)["endpoint"]
        if endpoint.get("vip"):
            return [DnsRecord(endpoint["name"], "AAAA" if ":" in endpoint["vip"] else "A", endpoint["vip"])]
        return [DnsRecord(endpoint["name"], "AAAA" if ":" in n.address else "A", n.address)
                for n in topology.control_planes(ctx.inventory)]
