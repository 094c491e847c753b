"""The kubernetes role's desired state, computed from an inventory alone (and a containerd version read from the host)."""

from __future__ import annotations

import textwrap
import tomllib

import pytest
import yaml

from fleetfab.exports import ExportBook
from fleetfab.inventory import InputError, load_inventory
from fleetfab.redact import Redactor
from fleetfab.role import RoleContext
from fleetfab.roles.kubernetes import Kubernetes
from fleetfab.roles.kubernetes.copied import CopiedFile
from fleetfab.roles.kubernetes.imagearchive import image_archive
from fleetfab.roles.kubernetes.packages import KubePackages
from fleetfab.roles.kubernetes.prereqs import SwapOff

CONTAINERD_16 = "containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+deb12u3"
CONTAINERD_17 = "containerd github.com/containerd/containerd 1.7.24~ds1 1.7.24~ds1-1"
CONTAINERD_20 = "containerd github.com/containerd/containerd/v2 v2.0.2 c507a0257ea6462fbd6f5ba4f5c74facb04021f4"

CLUSTER = """
    groups:
      k8s:
        roles: [wireguard, kubernetes]
        vars:
          wireguard: {network: 100.64.0.0/24}
          kubernetes:
            version: 1.35.9
            control_plane: [cp1, cp2]
            pod_cidr: 100.96.0.0/16
            service_cidr: 100.97.0.0/16
            endpoint: {name: k8s-api.example.com}
            cni: {plugin: flannel, repository: registry.example.com/flannel-io}
            images: {repository: registry.example.com/k8s}
            source:
              kind: repository
              url: https://packages.example.com/k8s/v{minor}/deb/
              key: signing.asc
    hosts:
      cp1: {address: 198.18.0.11, groups: [k8s], vars: {wireguard: {address: 100.64.0.10}}}
      cp2: {address: 198.18.0.12, groups: [k8s], vars: {wireguard: {address: 100.64.0.11}}}
      w1: {address: 198.18.0.21, groups: [k8s], vars: {wireguard: {address: 100.64.0.21, mtu: 1380}}}
"""
ARMORED = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQINBGN0dGVzdA==\n-----END PGP PUBLIC KEY BLOCK-----\n"


@pytest.fixture
def inventory_of(tmp_path):
    (tmp_path / "signing.asc").write_text(ARMORED)

    def load(text: str = CLUSTER, change=lambda t: t):
        path = tmp_path / "hosts.yml"
        path.write_text(textwrap.dedent(change(text)).lstrip("\n"))
        return load_inventory(path)
    return load


@pytest.fixture
def problems_of(inventory_of):
    def collect(change) -> list[str]:
        with pytest.raises(InputError) as caught:
            inventory_of(change=change)
        return [f"{p.line}: {p.field}: {p.message}" for p in caught.value.problems]
    return collect


def context(inventory, host: str, containerd: str = CONTAINERD_16) -> RoleContext:
    book = ExportBook(Redactor())
    for name in inventory.hosts:
        book.put(name, "kubernetes", "containerd_version", containerd, remember=False)
    return RoleContext(inventory, inventory.hosts[host], "kubernetes", book)


def desired(inventory, host: str, containerd: str = CONTAINERD_16) -> dict:
    return {r.key: r for r in Kubernetes().resources(context(inventory, host, containerd))}


def content(resources: dict, path: str) -> str:
    return resources[f"file {path}"].content


def documents(text: str) -> dict:
    return {d["kind"]: d for d in yaml.safe_load_all(text) if d}


# -- containerd ------------------------------------------------------------------------


def test_containerd_1x_gets_config_schema_2_with_the_systemd_cgroup_driver(inventory_of):
    toml = tomllib.loads(content(desired(inventory_of(), "cp1"), "/etc/containerd/config.toml"))
    cri = toml["plugins"]["io.containerd.grpc.v1.cri"]
    assert toml["version"] == 2 and cri["containerd"]["runtimes"]["runc"]["options"]["SystemdCgroup"] is True


def test_containerd_2x_gets_config_schema_3_with_the_systemd_cgroup_driver(inventory_of):
    toml = tomllib.loads(content(desired(inventory_of(), "cp1", CONTAINERD_20), "/etc/containerd/config.toml"))
    runtime = toml["plugins"]["io.containerd.cri.v1.runtime"]
    assert toml["version"] == 3 and runtime["containerd"]["runtimes"]["runc"]["options"]["SystemdCgroup"] is True


def test_the_sandbox_image_is_the_one_kubeadm_of_the_pinned_minor_expects(inventory_of):
    v2 = tomllib.loads(content(desired(inventory_of(), "cp1"), "/etc/containerd/config.toml"))
    v3 = tomllib.loads(content(desired(inventory_of(), "cp1", CONTAINERD_20), "/etc/containerd/config.toml"))
    assert v2["plugins"]["io.containerd.grpc.v1.cri"]["sandbox_image"] == "registry.example.com/k8s/pause:3.10.1"
    assert v3["plugins"]["io.containerd.cri.v1.images"]["pinned_images"]["sandbox"] == "registry.example.com/k8s/pause:3.10.1"


def test_the_snapshotter_setting_reaches_containerd(inventory_of):
    inventory = inventory_of(change=lambda t: t.replace("version: 1.35.9", "version: 1.35.9\n            snapshotter: native"))
    toml = tomllib.loads(content(desired(inventory, "cp1"), "/etc/containerd/config.toml"))
    assert toml["plugins"]["io.containerd.grpc.v1.cri"]["containerd"]["snapshotter"] == "native"


def test_containerds_config_is_validated_by_containerd_and_restarts_it(inventory_of):
    config = desired(inventory_of(), "cp1")["file /etc/containerd/config.toml"]
    assert "config dump" in config.validate and config.notify == ("restart containerd",)


def test_crictl_points_at_containerd(inventory_of):
    assert "runtime-endpoint: unix:///run/containerd/containerd.sock" in content(desired(inventory_of(), "w1"), "/etc/crictl.yaml")


def test_without_the_containerd_version_only_its_config_and_the_packages_wait(inventory_of):
    inventory = inventory_of()
    resources = list(Kubernetes().resources(RoleContext(inventory, inventory.hosts["cp1"], "kubernetes", ExportBook(Redactor()))))
    blocked = [r.key for r in resources if type(r).__name__ == "Blocked"]
    assert blocked == ["file /etc/containerd/config.toml", "packages kubeadm kubelet kubectl 1.35.9 (held)"]
    assert "file /etc/crictl.yaml" not in {r.key for r in resources}


def test_a_host_whose_containerd_cannot_run_the_minor_gets_no_kubeadm_and_is_told_why(inventory_of):
    packages = desired(inventory_of(), "w1", CONTAINERD_16)["packages kubeadm kubelet kubectl 1.35.9 (held)"]
    change = packages.compare("")
    assert change.action == "report" and "needs containerd 1.7.24 or later and this host has 1.6.20" in change.summary


def test_a_host_whose_containerd_runs_the_minor_installs_it(inventory_of):
    packages = desired(inventory_of(), "w1", CONTAINERD_17)["packages kubeadm kubelet kubectl 1.35.9 (held)"]
    assert packages.compare("").action == "install"


def test_the_lab_like_host_is_told_both_why_nothing_is_installed(inventory_of):
    inventory = inventory_of(change=lambda t: t.replace("key: signing.asc", "key: signing.asc\n              reachable: false"))
    packages = desired(inventory, "w1", CONTAINERD_16)["packages kubeadm kubelet kubectl 1.35.9 (held)"]
    assert packages.compare("") is None
    assert "source is unreachable" in packages.note("") and "needs containerd 1.7.24" in packages.note("")


# -- prerequisites -----------------------------------------------------------------------


def test_swap_is_turned_off_by_default(inventory_of):
    assert isinstance(desired(inventory_of(), "w1")["swap off"], SwapOff)


def test_bridge_netfilter_and_forwarding_are_set(inventory_of):
    keys = set(desired(inventory_of(), "w1"))
    assert {"sysctl net.bridge.bridge-nf-call-iptables", "sysctl net.bridge.bridge-nf-call-ip6tables", "sysctl net.ipv4.ip_forward"} <= keys


def test_overlay_and_br_netfilter_are_loaded_now_and_at_boot(inventory_of):
    resources = desired(inventory_of(), "w1")
    assert "kernel modules overlay br_netfilter" in resources
    assert content(resources, "/etc/modules-load.d/kubernetes.conf").splitlines()[1:] == ["overlay", "br_netfilter"]


def test_a_swap_behaviour_keeps_swap_and_tells_kubelet(inventory_of):
    inventory = inventory_of(change=lambda t: t.replace("version: 1.35.9", "version: 1.35.9\n            swap: LimitedSwap"))
    resources = desired(inventory, "cp1")
    kubelet = documents(content(resources, "/etc/fleetfab/kubernetes/init.yaml"))["KubeletConfiguration"]
    assert "swap off" not in resources
    assert kubelet["failSwapOn"] is False and kubelet["memorySwap"] == {"swapBehavior": "LimitedSwap"}


# -- kubeadm's configuration ----------------------------------------------------------------


def test_only_the_first_control_plane_node_gets_an_init_configuration(inventory_of):
    inventory = inventory_of()
    has_init = {h: "file /etc/fleetfab/kubernetes/init.yaml" in desired(inventory, h) for h in ("cp1", "cp2", "w1")}
    assert has_init == {"cp1": True, "cp2": False, "w1": False}


def test_the_first_control_plane_node_advertises_its_mesh_address(inventory_of):
    init = documents(content(desired(inventory_of(), "cp1"), "/etc/fleetfab/kubernetes/init.yaml"))["InitConfiguration"]
    assert init["localAPIEndpoint"]["advertiseAddress"] == "100.64.0.10"
    assert init["nodeRegistration"]["kubeletExtraArgs"] == [{"name": "node-ip", "value": "100.64.0.10"}]


def test_the_cluster_configuration_carries_the_inventorys_values(inventory_of):
    cluster = documents(content(desired(inventory_of(), "cp1"), "/etc/fleetfab/kubernetes/init.yaml"))["ClusterConfiguration"]
    assert cluster["apiVersion"] == "kubeadm.k8s.io/v1beta4" and cluster["kubernetesVersion"] == "v1.35.9"
    assert cluster["controlPlaneEndpoint"] == "k8s-api.example.com:6443"
    assert cluster["networking"] == {"dnsDomain": "cluster.local", "podSubnet": "100.96.0.0/16", "serviceSubnet": "100.97.0.0/16"}
    assert cluster["imageRepository"] == "registry.example.com/k8s"


def test_the_api_certificate_names_the_endpoint_and_every_control_plane_address(inventory_of):
    cluster = documents(content(desired(inventory_of(), "cp1"), "/etc/fleetfab/kubernetes/init.yaml"))["ClusterConfiguration"]
    assert cluster["apiServer"]["certSANs"] == ["k8s-api.example.com", "100.64.0.10", "100.64.0.11"]


def test_kubelet_uses_the_systemd_cgroup_driver(inventory_of):
    kubelet = documents(content(desired(inventory_of(), "cp1"), "/etc/fleetfab/kubernetes/init.yaml"))["KubeletConfiguration"]
    assert kubelet["cgroupDriver"] == "systemd" and kubelet["failSwapOn"] is True


def test_a_worker_joins_through_the_endpoint_name_with_its_mesh_address(inventory_of):
    join = documents(content(desired(inventory_of(), "w1"), "/etc/fleetfab/kubernetes/join.yaml"))["JoinConfiguration"]
    assert join["discovery"]["bootstrapToken"]["apiServerEndpoint"] == "k8s-api.example.com:6443"
    assert join["nodeRegistration"]["kubeletExtraArgs"] == [{"name": "node-ip", "value": "100.64.0.21"}]
    assert "controlPlane" not in join


def test_a_second_control_plane_node_joins_as_one_advertising_its_mesh_address(inventory_of):
    join = documents(content(desired(inventory_of(), "cp2"), "/etc/fleetfab/kubernetes/join.yaml"))["JoinConfiguration"]
    assert join["controlPlane"]["localAPIEndpoint"]["advertiseAddress"] == "100.64.0.11"


def test_the_join_configuration_holds_placeholders_never_a_real_token(inventory_of):
    join = documents(content(desired(inventory_of(), "cp2"), "/etc/fleetfab/kubernetes/join.yaml"))["JoinConfiguration"]
    assert set(join["discovery"]["bootstrapToken"]["token"]) <= set("0.")
    assert set(join["controlPlane"]["certificateKey"]) == {"0"}


def test_kubeadm_configs_are_private(inventory_of):
    assert desired(inventory_of(), "cp1")["file /etc/fleetfab/kubernetes/init.yaml"].mode == "0600"


def test_the_bootstrap_token_of_init_lives_fifteen_minutes(inventory_of):
    init = documents(content(desired(inventory_of(), "cp1"), "/etc/fleetfab/kubernetes/init.yaml"))["InitConfiguration"]
    assert [t["ttl"] for t in init["bootstrapTokens"]] == ["15m0s"] and "token" not in init["bootstrapTokens"][0]


# -- packages and images ---------------------------------------------------------------------


def test_the_source_is_signed_by_its_own_key_and_pinned_to_the_minor(inventory_of):
    resources = desired(inventory_of(), "w1")
    source = content(resources, "/etc/apt/sources.list.d/kubernetes.sources")
    assert "URIs: https://packages.example.com/k8s/v1.35/deb/" in source
    assert "Signed-By: /etc/apt/keyrings/kubernetes-apt-keyring.asc" in source and "Enabled: no" not in source
    assert "Pin: version 1.35.*" in content(resources, "/etc/apt/preferences.d/kubernetes")


def test_an_armored_key_is_copied_as_asc_and_a_binary_one_as_gpg(inventory_of, tmp_path):
    assert isinstance(desired(inventory_of(), "w1")["file /etc/apt/keyrings/kubernetes-apt-keyring.asc"], CopiedFile)
    (tmp_path / "binary.gpg").write_bytes(b"\x99\x02\r\x04binary")
    inventory = inventory_of(change=lambda t: t.replace("key: signing.asc", "key: binary.gpg"))
    assert "file /etc/apt/keyrings/kubernetes-apt-keyring.gpg" in desired(inventory, "w1")


def test_an_unreachable_source_is_written_disabled_and_installs_nothing(inventory_of):
    inventory = inventory_of(change=lambda t: t.replace("key: signing.asc", "key: signing.asc\n              reachable: false"))
    resources = desired(inventory, "w1")
    assert "Enabled: no" in content(resources, "/etc/apt/sources.list.d/kubernetes.sources")
    assert not resources["packages kubeadm kubelet kubectl 1.35.9 (held)"].installable


def test_a_bundle_copies_its_packages_and_installs_from_them(inventory_of, tmp_path):
    (tmp_path / "bundle").mkdir()
    (tmp_path / "bundle" / "kubeadm_1.35.9-1.1_amd64.deb").write_bytes(b"!<arch>\n")
    inventory = inventory_of(change=lambda t: t.replace(
        "kind: repository\n              url: https://packages.example.com/k8s/v{minor}/deb/\n              key: signing.asc",
        "kind: bundle\n              path: bundle"))
    resources = desired(inventory, "w1")
    assert isinstance(resources["file /var/lib/fleetfab/kubernetes/debs/kubeadm_1.35.9-1.1_amd64.deb"], CopiedFile)
    assert resources["packages kubeadm kubelet kubectl 1.35.9 (held)"].bundle == "/var/lib/fleetfab/kubernetes/debs"
    assert "file /etc/apt/sources.list.d/kubernetes.sources" not in resources


def test_image_archives_are_copied_then_imported_under_the_names_they_hold(inventory_of, tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "pause.tar").write_bytes(image_archive(b"\x7fELF", "registry.example.com/k8s/pause:3.10.1"))
    inventory = inventory_of(change=lambda t: t.replace("images: {repository: registry.example.com/k8s}",
                                                       "images: {repository: registry.example.com/k8s, archives: images}"))
    keys = list(desired(inventory, "w1"))
    copied, imported = "file /var/lib/fleetfab/kubernetes/images/pause.tar", "images of pause.tar in containerd"
    assert keys.index(copied) < keys.index(imported)
    assert desired(inventory, "w1")[imported].names == ("registry.example.com/k8s/pause:3.10.1",)


def test_packages_are_pinned_to_the_exact_version(inventory_of):
    packages = desired(inventory_of(), "w1")["packages kubeadm kubelet kubectl 1.35.9 (held)"]
    assert isinstance(packages, KubePackages) and packages.version == "1.35.9"


# -- the pod network ----------------------------------------------------------------------------


def test_the_cni_manifest_is_kept_on_the_first_control_plane_node_only(inventory_of):
    inventory = inventory_of()
    assert ["file /etc/fleetfab/kubernetes/cni.yaml" in desired(inventory, h) for h in ("cp1", "cp2", "w1")] == [True, False, False]


def test_flannel_runs_over_the_mesh_interface_with_the_smallest_mesh_mtu_less_vxlan(inventory_of):
    manifest = documents(content(desired(inventory_of(), "cp1"), "/etc/fleetfab/kubernetes/cni.yaml"))
    daemonset = manifest["DaemonSet"]["spec"]["template"]["spec"]["containers"][0]
    # cp1 and cp2 keep the mesh's 1420; w1 sets 1380: every pod gets 1380 - 50
    assert "--iface=wg0" in daemonset["args"] and '"mtu": 1330' in manifest["ConfigMap"]["data"]["cni-conf.json"]


def test_flannels_images_are_pinned_in_the_project(inventory_of):
    text = content(desired(inventory_of(), "cp1"), "/etc/fleetfab/kubernetes/cni.yaml")
    assert "image: registry.example.com/flannel-io/flannel:v0.26.1" in text


def test_calico_is_refused_at_its_line(problems_of):
    found = problems_of(lambda t: t.replace("cni: {plugin: flannel,", "cni: {plugin: calico,"))
    assert found == ["12: groups.k8s.vars.kubernetes.cni.plugin: expected one of 'flannel', got 'calico'"]


def test_the_cni_is_applied_only_once_a_cluster_runs_and_only_when_it_differs(inventory_of):
    command = desired(inventory_of(), "cp1")["command apply the CNI manifest"]
    assert command.unless.startswith("[ ! -e /etc/kubernetes/admin.conf ] ||") and "kubectl" in command.unless and " diff " in command.unless


# -- records -------------------------------------------------------------------------------------


def test_the_endpoint_name_has_an_a_record_per_control_plane_node(inventory_of):
    inventory = inventory_of()
    records = Kubernetes().dns_records(context(inventory, "cp1"))
    assert [(r.name, r.type, r.value) for r in records] == [("k8s-api.example.com", "A", "100.64.0.10"),
                                                            ("k8s-api.example.com", "A", "100.64.0.11")]


def test_with_a_vip_the_endpoint_name_points_at_it_alone(inventory_of):
    inventory = inventory_of(change=lambda t: t.replace("endpoint: {name: k8s-api.example.com}",
                                                       "endpoint: {name: k8s-api.example.com, vip: 198.18.0.100}"))
    assert [r.value for r in Kubernetes().dns_records(context(inventory, "cp1"))] == ["198.18.0.100"]


# -- inventory problems -----------------------------------------------------------------------------


def test_the_cluster_as_written_has_no_problems(inventory_of):
    assert inventory_of().hosts["cp1"].roles == ("wireguard", "kubernetes")


def test_an_unsupported_version_is_refused_at_its_line(problems_of):
    [found] = problems_of(lambda t: t.replace("version: 1.35.9", "version: 1.29.3"))
    assert found.startswith("7: hosts.cp1.vars.kubernetes.version: 1.29.3 is not supported")


def test_a_version_that_is_not_1_nn_p_is_refused(problems_of):
    assert any("expected a version such as 1.35.9" in p for p in problems_of(lambda t: t.replace("version: 1.35.9", "version: latest")))


def test_overlapping_pod_and_service_networks_are_refused(problems_of):
    found = problems_of(lambda t: t.replace("service_cidr: 100.97.0.0/16", "service_cidr: 100.96.128.0/17"))
    assert found == ["10: hosts.cp1.vars.kubernetes.service_cidr: 100.96.128.0/17 overlaps the pod network 100.96.0.0/16"]


def test_a_pod_network_over_the_mesh_is_refused(problems_of):
    found = problems_of(lambda t: t.replace("pod_cidr: 100.96.0.0/16", "pod_cidr: 100.64.0.0/16"))
    assert any("pod_cidr: 100.64.0.0/16 overlaps the WireGuard mesh 100.64.0.0/24" in p for p in found)


def test_a_control_plane_node_that_is_not_in_the_cluster_is_refused(problems_of):
    found = problems_of(lambda t: t.replace("control_plane: [cp1, cp2]", "control_plane: [cp1, cp9]"))
    assert any("control_plane: cp9 is not a host with the kubernetes role" in p for p in found)


def test_a_repository_source_without_a_key_is_refused(problems_of):
    found = problems_of(lambda t: t.replace("              key: signing.asc\n", ""))
    assert any("source: kind repository needs `key`" in p for p in found)


def test_a_key_file_missing_on_the_operators_machine_is_refused(problems_of):
    found = problems_of(lambda t: t.replace("key: signing.asc", "key: gone.asc"))
    assert any("source: key: no " in p and "gone.asc on this machine" in p for p in found)


def test_a_node_that_disagrees_on_a_cluster_wide_value_is_refused_at_its_host(problems_of):
    found = problems_of(lambda t: t.replace("vars: {wireguard: {address: 100.64.0.21, mtu: 1380}}",
                                            "vars: {wireguard: {address: 100.64.0.21, mtu: 1380}, kubernetes: {version: 1.36.4}}"))
    assert any("hosts.w1.vars.kubernetes.version: differs from cp1's" in p for p in found)


def test_a_node_without_the_mesh_is_refused(problems_of):
    found = problems_of(lambda t: t.replace("roles: [wireguard, kubernetes]", "roles: [kubernetes]"))
    assert any("needs the wireguard role" in p for p in found)


def test_a_bootstrap_of_the_nodes_ends_with_kubernetes_up_over_exactly_those_nodes(inventory_of):
    from fleetfab.roles.kubernetes import tasks

    inventory = inventory_of()
    step = Kubernetes().after_bootstrap(inventory, list(inventory.hosts.values()))
    assert (step.func, step.args) == (tasks.up, ("cp1,cp2,w1",))


def test_with_an_unreachable_source_a_bootstrap_does_not_go_on_to_kubeadm(inventory_of):
    inventory = inventory_of(change=lambda t: t.replace("key: signing.asc", "key: signing.asc\n              reachable: false"))
    assert Kubernetes().after_bootstrap(inventory, list(inventory.hosts.values())) is None


def test_a_bootstrap_of_hosts_without_the_role_has_no_cluster_steps(inventory_of):
    inventory = inventory_of()
    others = [h for h in inventory.hosts.values() if not h.has_role("kubernetes")]
    assert Kubernetes().after_bootstrap(inventory, others) is None
