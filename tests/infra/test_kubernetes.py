"""The kubernetes role, checked on every node: what this machine can prove, and the cluster where it can exist.

Proven on every node wherever it runs: the prerequisites (swap, modules,
sysctls), containerd running with exactly the configuration the role
renders, a container started from an image archive made on the test runner
from Debian's busybox-static, imported with `ctr` and run with the
snapshotter the inventory names, the package source, key and pin, and
kubeadm's configuration files. The name servers are asked for the API
endpoint's name.

The cluster checks (every node Ready on its mesh address, the endpoint
answering, pods reaching each other across the mesh, an upgrade, a node
removed and joined again) need kubeadm, kubelet and the control-plane
images: where the inventory's package source is not reachable they skip,
each by name, saying so. On machines that reach one, `fab -H k8s bootstrap
kubernetes.up` first; the upgrade and re-join checks also want
FLEETFAB_K8S_UPGRADE_TO (the next minor's version) and FLEETFAB_K8S_DESTRUCTIVE=1.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import dns.message
import dns.query
import dns.rdatatype
import pytest
import yaml

from fleetfab.exports import ExportBook
from fleetfab.redact import Redactor
from fleetfab.role import RoleContext
from fleetfab.roles.kubernetes import containerd, topology
from fleetfab.roles.kubernetes.imagearchive import write_image_archive
from fleetfab.roles.kubernetes.kubeadmconfig import INIT_FILE, JOIN_FILE
from fleetfab.roles.kubernetes.packages import PIN_FILE, SOURCE_FILE, available, keyring_path, resolve
from fleetfab.roles.kubernetes.prereqs import SYSCTLS
from fleetfab.roles.kubernetes.versions import containerd_problem
from tests.infra.conftest import ssh_config_path

ROLE = "kubernetes"
FAB = Path(sys.executable).parent / "fab"
REPO = Path(__file__).resolve().parents[2]
IMAGE = "registry.lab.test/fleetfab/busybox:static"
REMOTE_ARCHIVE = "/var/tmp/fleetfab-busybox.tar"
NO_SOURCE = ("no Kubernetes package source is reachable from these hosts (kubernetes.source.reachable: false): "
             "kubeadm, kubelet and the control-plane images are not installed, so no cluster exists to check")


def settings(spec) -> dict:
    return spec.settings(ROLE)


def desired_containerd(inventory, spec, version_text: str) -> str:
    book = ExportBook(Redactor())
    book.put(spec.name, ROLE, containerd.VERSION_EXPORT, version_text, remember=False)
    ctx = RoleContext(inventory, spec, ROLE, book)
    return containerd.config(ctx, topology.version(ctx.settings), version_text)


# -- the node ------------------------------------------------------------------------------


def test_swap_is_off(host, spec):
    if settings(spec)["swap"] != "off":
        pytest.skip(f"the inventory keeps swap ({settings(spec)['swap']})")
    assert host.file("/proc/swaps").content_string.splitlines()[1:] == []


def test_overlay_and_br_netfilter_are_in_the_kernel(host):
    assert host.file("/sys/module/overlay").is_directory
    assert host.file("/proc/sys/net/bridge").is_directory  # br_netfilter's, loaded or built in


def test_the_bridge_and_forwarding_sysctls_are_set_and_kept(host):
    live = {name: host.file("/proc/sys/" + name.replace(".", "/")).content_string.strip() for name in SYSCTLS}
    assert live == {name: str(value) for name, value in SYSCTLS.items()}
    kept = host.file("/etc/sysctl.d/90-fleetfab.conf").content_string
    assert all(f"{name} = {value}" in kept for name, value in SYSCTLS.items())


def test_containerd_runs_and_starts_at_boot(host):
    service = host.service("containerd")
    assert service.is_running and service.is_enabled


def test_containerds_config_is_exactly_the_roles_for_the_installed_version(host, spec, inventory):
    version_text = host.check_output(containerd.VERSION_COMMAND)
    assert host.file(containerd.CONFIG).content_string == desired_containerd(inventory, spec, version_text)


def test_containerd_runs_with_the_systemd_cgroup_driver_the_sandbox_image_and_the_snapshotter(host, spec):
    dumped = host.check_output("containerd config dump")
    assert "SystemdCgroup = true" in dumped
    assert f'snapshotter = "{settings(spec)["snapshotter"]}"' in dumped
    assert f"{settings(spec)['images']['repository']}/pause:{topology.version(settings(spec)).sandbox_tag}" in dumped


def test_containerd_reads_the_effective_values_the_role_means_from_its_live_config(host, spec):
    """The role's own check (containerd's config dump, each value under its table) on the file in place."""
    version_text = host.check_output(containerd.VERSION_COMMAND)
    s = settings(spec)
    wanted = containerd.effective(version_text, containerd.sandbox_image(s, topology.version(s)), s["snapshotter"])
    result = host.run(containerd.validate_command(wanted).replace("%s", containerd.CONFIG))
    assert result.rc == 0, result.stderr


def test_containerd_warns_of_no_deprecated_setting_in_the_roles_config(host):
    """containerd 1.7 (Debian 13) lists what it read that its next major drops; 1.6 has no such list."""
    listed = host.run("ctr deprecations list")
    if listed.rc != 0:
        pytest.skip("this node's containerd keeps no list of deprecations (1.6; Debian 13's 1.7 does)")
    assert listed.stdout.strip() == ""


def test_a_node_whose_containerd_cannot_run_the_pinned_minor_says_so(host, spec):
    problem = containerd_problem(topology.version(settings(spec)), host.check_output(containerd.VERSION_COMMAND))
    if problem is None:
        pytest.skip("this node's containerd runs the pinned minor")
    assert not installed(host), "kubeadm was installed beside a containerd that cannot run it"


def test_crictl_points_at_containerd(host):
    assert f"runtime-endpoint: {containerd.SOCKET}" in host.file(containerd.CRICTL).content_string


@pytest.fixture(scope="session")
def busybox_archive(tmp_path_factory) -> Path:
    """An OCI archive of one image, made here from Debian's busybox-static (downloaded, not installed)."""
    if not shutil.which("apt-get") or not shutil.which("dpkg-deb"):
        pytest.skip("the test runner has no apt-get/dpkg-deb to fetch Debian's busybox-static")
    work = tmp_path_factory.mktemp("busybox")
    fetched = subprocess.run(["apt-get", "download", "-q", "busybox-static"], cwd=work, capture_output=True, text=True)
    if fetched.returncode != 0:
        pytest.skip(f"busybox-static could not be downloaded here: {fetched.stderr.strip()[-200:]}")
    [deb] = work.glob("busybox-static_*.deb")
    subprocess.run(["dpkg-deb", "-x", str(deb), str(work / "root")], check=True)
    return write_image_archive(work / "root" / "bin" / "busybox", IMAGE, work / "busybox.tar")


def copy_to(pytestconfig, name: str, local: Path, remote: str) -> None:
    subprocess.run(["scp", "-q", "-F", str(ssh_config_path(pytestconfig)), str(local), f"{name}:{remote}"],
                   check=True, timeout=120)


def test_a_container_from_an_imported_archive_runs_with_the_configured_snapshotter(host, spec, pytestconfig, busybox_archive):
    copy_to(pytestconfig, spec.name, busybox_archive, REMOTE_ARCHIVE)
    snapshotter = settings(spec)["snapshotter"]
    host.check_output(f"ctr -n k8s.io images import --snapshotter {snapshotter} {REMOTE_ARCHIVE}")
    assert IMAGE in host.check_output("ctr -n k8s.io images ls -q").split()
    word = uuid.uuid4().hex
    run_id = f"fleetfab-test-{word[:8]}"
    out = host.run(f"ctr -n k8s.io run --rm --snapshotter {snapshotter} {IMAGE} {run_id} /bin/echo {word}")
    host.run(f"ctr -n k8s.io images rm {IMAGE}; rm -f {REMOTE_ARCHIVE}")
    assert out.rc == 0, out.stderr
    assert out.stdout.strip() == word


# -- the package source and kubeadm's configuration -----------------------------------------------


def test_the_source_is_signed_by_its_key_and_disabled_exactly_when_unreachable(host, spec, inventory):
    s = settings(spec)
    if s["source"]["kind"] != "repository":
        pytest.skip("the nodes install from a bundle, not a repository")
    key = resolve(inventory, s["source"]["key"])
    source = host.file(SOURCE_FILE).content_string
    assert f"Signed-By: {keyring_path(key)}" in source and f"/v{topology.version(s).minor_line}/" in source
    assert ("Enabled: no" in source) == (not available(s))
    assert host.check_output(f"sha256sum < {keyring_path(key)}").split()[0] == hashlib.sha256(key.read_bytes()).hexdigest()


def test_the_packages_are_pinned_to_the_minor(host, spec):
    assert f"Pin: version {topology.version(settings(spec)).minor_line}.*" in host.file(PIN_FILE).content_string


def test_apt_still_updates_with_the_source_in_place(host):
    assert host.run("apt-get -q update").rc == 0


def installed(host) -> bool:
    return host.run("dpkg-query -W -f='${db:Status-Status}' kubeadm").stdout.strip() == "installed"


def test_kubeadm_kubelet_and_kubectl_are_held_at_the_pinned_version(host, spec):
    if not installed(host):
        pytest.skip("kubeadm, kubelet and kubectl are not installed (the source is unreachable): nothing is held")
    held = set(host.check_output("apt-mark showhold").split())
    assert {"kubeadm", "kubelet", "kubectl"} <= held
    assert host.check_output("kubeadm version -o short").strip() == topology.version(settings(spec)).tag


def test_kubeadms_configuration_is_rendered_for_this_node_on_its_mesh_address(host, spec, inventory):
    first = topology.first_control_plane(inventory)
    path = INIT_FILE if spec.name == first.name else JOIN_FILE
    config = host.file(path)
    assert config.mode == 0o600
    documents = {d["kind"]: d for d in yaml.safe_load_all(config.content_string) if d}
    me = topology.node(spec)
    registration = documents["InitConfiguration" if path == INIT_FILE else "JoinConfiguration"]["nodeRegistration"]
    assert registration["kubeletExtraArgs"] == [{"name": "node-ip", "value": me.address}]
    assert f"inet {me.address}/" in host.check_output("ip -o addr show dev wg0")


def test_kubeadm_accepts_the_configuration(host, spec, inventory):
    if not installed(host):
        pytest.skip("kubeadm is not installed here (the source is unreachable): `kubeadm config validate` cannot run")
    path = INIT_FILE if spec.name == topology.first_control_plane(inventory).name else JOIN_FILE
    assert host.run(f"kubeadm config validate --config {path}").rc == 0


# -- the endpoint name ------------------------------------------------------------------------------


def test_every_name_server_answers_the_endpoint_name_with_the_control_plane_mesh_addresses(inventory):
    endpoint = inventory.with_role(ROLE)[0].settings(ROLE)["endpoint"]
    expected = {endpoint["vip"]} if endpoint.get("vip") else {n.address for n in topology.control_planes(inventory)}
    servers = inventory.with_role("bind9")
    if not servers:
        pytest.skip("the inventory has no bind9 name server")
    for server in servers:
        query = dns.message.make_query(endpoint["name"], "A")
        response = dns.query.udp(query, server.address, timeout=3)
        found = {rd.to_text() for rrset in response.answer if rrset.rdtype == dns.rdatatype.A for rd in rrset}
        assert found == expected, server.name


# -- the cluster (where kubeadm can be installed) ---------------------------------------------------------


@pytest.fixture(scope="module")
def cluster(inventory, connect):
    """The first control-plane node, as a testinfra host, once a cluster answers there."""
    first = topology.first_control_plane(inventory)
    cp = connect(first.name)
    if not available(inventory.hosts[first.name].settings(ROLE)) or not installed(cp):
        pytest.skip(NO_SOURCE)
    if not cp.file("/etc/kubernetes/admin.conf").exists:
        pytest.skip("kubeadm is installed but no cluster was initialised: run `fab -H k8s bootstrap kubernetes.up`")
    return cp


def kubectl(cp, args: str) -> str:
    return cp.check_output(f"kubectl --kubeconfig=/etc/kubernetes/admin.conf {args}")


def nodes(cp) -> dict:
    return {n["metadata"]["name"]: n for n in json.loads(kubectl(cp, "get nodes -o json"))["items"]}


def test_every_node_is_ready_on_its_mesh_address(cluster, inventory):
    found = nodes(cluster)
    for node in topology.nodes(inventory):
        status = found[node.name]["status"]
        ready = {c["type"]: c["status"] for c in status["conditions"]}["Ready"]
        address = {a["type"]: a["address"] for a in status["addresses"]}["InternalIP"]
        assert (ready, address) == ("True", node.address), node.name


def test_the_endpoint_name_answers_from_every_node(cluster, inventory, connect):
    endpoint = topology.endpoint(inventory.with_role(ROLE)[0].settings(ROLE))
    for node in topology.nodes(inventory):
        assert connect(node.name).run(f"curl -sk --max-time 5 https://{endpoint}/livez").stdout.strip() == "ok", node.name


def test_a_pod_on_each_worker_reaches_a_pod_on_another_worker_across_the_mesh(cluster, inventory):
    workers = [n.name for n in topology.nodes(inventory) if not n.control_plane]
    if len(workers) < 2:
        pytest.skip("fewer than two workers")
    image = f"{inventory.with_role(ROLE)[0].settings(ROLE)['images']['repository']}/busybox:static"
    for worker in workers:
        kubectl(cluster, f"run fleetfab-ping-{worker} --image={image} --restart=Never "
                         f"--overrides='{{\"spec\":{{\"nodeName\":\"{worker}\"}}}}' -- sleep 600")
    try:
        kubectl(cluster, "wait --for=condition=Ready pod -l run --timeout=120s")
        ips = {w: kubectl(cluster, f"get pod fleetfab-ping-{w} -o jsonpath={{.status.podIP}}").strip() for w in workers}
        for worker in workers:
            other = next(w for w in workers if w != worker)
            kubectl(cluster, f"exec fleetfab-ping-{worker} -- ping -c 3 -W 2 {ips[other]}")
    finally:
        for worker in workers:
            cluster.run(f"kubectl --kubeconfig=/etc/kubernetes/admin.conf delete pod fleetfab-ping-{worker} --now")


def fab(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(FAB), *args], cwd=REPO, capture_output=True, text=True, timeout=3600)


def test_an_upgrade_of_one_minor_version_leaves_every_node_ready_on_it(cluster, inventory):
    target = os.environ.get("FLEETFAB_K8S_UPGRADE_TO")
    if not target or os.environ.get("FLEETFAB_K8S_DESTRUCTIVE") != "1":
        pytest.skip("set FLEETFAB_K8S_UPGRADE_TO (the next minor's version) and FLEETFAB_K8S_DESTRUCTIVE=1 to upgrade the cluster")
    if str(topology.version(inventory.with_role(ROLE)[0].settings(ROLE))) != target:
        pytest.skip(f"the inventory's kubernetes.version must be {target} first: an upgrade goes to the inventory's version")
    result = fab("kubernetes.upgrade", "--to", target)
    assert result.returncode == 0, result.stdout + result.stderr
    assert {n["status"]["nodeInfo"]["kubeletVersion"] for n in nodes(cluster).values()} == {f"v{target}"}


def test_a_worker_removed_and_joined_again_is_ready(cluster, inventory):
    if os.environ.get("FLEETFAB_K8S_DESTRUCTIVE") != "1":
        pytest.skip("set FLEETFAB_K8S_DESTRUCTIVE=1 to remove and re-join a worker")
    worker = next(n.name for n in topology.nodes(inventory) if not n.control_plane)
    removed = fab("-H", worker, "kubernetes.remove")
    assert removed.returncode == 0, removed.stdout + removed.stderr
    assert worker not in nodes(cluster)
    joined = fab("kubernetes.up")
    assert joined.returncode == 0, joined.stdout + joined.stderr
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and {c["type"]: c["status"] for c in nodes(cluster)[worker]["status"]["conditions"]}["Ready"] != "True":
        time.sleep(5)
    assert {c["type"]: c["status"] for c in nodes(cluster)[worker]["status"]["conditions"]}["Ready"] == "True"
