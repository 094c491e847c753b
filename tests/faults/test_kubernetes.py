"""The kubernetes role operated in the lab as an operator would: a hand edit found, an air-gapped bundle imported, refusals.

Each test starts and ends with the lab's kubernetes nodes converged, and
touches no other machine; the bundle test puts the nodes back as the lab
inventory has them (no bundle) when it is done.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from fleetfab.lab.paths import inventory_path
from fleetfab.roles.kubernetes.imagearchive import write_image_archive
from fleetfab.roles.kubernetes.images import REMOTE_DIR
from tests.faults.conftest import FaultLab

NODE = "worker1"
CONFIG = "/etc/containerd/config.toml"
IMAGE = "registry.lab.test/fleetfab/bundle-busybox:static"


@pytest.fixture(scope="module")
def lab(pytestconfig, tmp_path_factory) -> FaultLab:
    """The lab with its kubernetes nodes converged: these tests touch no other machine."""
    if not shutil.which("docker") or subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        pytest.skip("the lab's docker engine does not answer: run ./run lab first")
    lab = FaultLab(inventory_path(pytestconfig.getoption("inventory")), tmp_path_factory.mktemp("kubernetes"))
    code, run = lab.fab("-H", "k8s", "bootstrap")
    assert code == 0, run.output
    return lab


def changes(document: dict, host: str) -> list[dict]:
    return document["hosts"][host]["changes"]


def test_a_hand_edit_of_containerds_config_is_drift_with_its_diff(lab):
    lab.sh(NODE, f"sed -i 's/SystemdCgroup = true/SystemdCgroup = false/' {CONFIG}")
    code, run = lab.fab("-H", NODE, "drift")
    assert code == 2, run.output
    [change] = [c for c in changes(run.document(), NODE) if c["resource"] == f"file {CONFIG}"]
    assert "-        SystemdCgroup = false" in change["diff"] and "+        SystemdCgroup = true" in change["diff"]


def test_bootstrap_restores_containerds_config_and_restarts_it(lab):
    code, run = lab.fab("-H", NODE, "bootstrap")
    assert code == 0, run.output
    assert "restart containerd" in run.document()["hosts"][NODE]["handlers"]
    assert "SystemdCgroup = true" in lab.sh(NODE, "containerd config dump")
    code, again = lab.fab("-H", NODE, "drift")
    assert code == 0, again.output


@pytest.fixture
def bundle(lab, tmp_path):
    """A folder of image archives on the operator's machine, made from Debian's busybox-static."""
    if not shutil.which("apt-get") or not shutil.which("dpkg-deb"):
        pytest.skip("the test runner has no apt-get/dpkg-deb to fetch Debian's busybox-static")
    fetched = subprocess.run(["apt-get", "download", "-q", "busybox-static"], cwd=tmp_path, capture_output=True, text=True)
    if fetched.returncode != 0:
        pytest.skip(f"busybox-static could not be downloaded here: {fetched.stderr.strip()[-200:]}")
    [deb] = tmp_path.glob("busybox-static_*.deb")
    subprocess.run(["dpkg-deb", "-x", str(deb), str(tmp_path / "root")], check=True)
    folder = tmp_path / "images"
    write_image_archive(tmp_path / "root" / "bin" / "busybox", IMAGE, folder / "busybox.tar")
    yield folder
    k8s = [h.name for h in lab.inventory.with_role("kubernetes")]
    for name in k8s:
        lab.sh(name, f"ctr -n k8s.io images rm {IMAGE} >/dev/null 2>&1 || true; rm -rf {REMOTE_DIR}")


def with_archives(folder):
    def change(document):
        document["groups"]["k8s"]["vars"]["kubernetes"]["images"]["archives"] = str(folder)
    return change


def test_an_air_gapped_bundle_is_copied_imported_and_runs_on_every_node_and_then_changes_nothing(lab, bundle):
    inventory = lab.inventory_copy("bundle", change=with_archives(bundle))
    k8s = [h.name for h in lab.inventory.with_role("kubernetes")]
    code, run = lab.fab("-H", "k8s", "bootstrap", inventory=inventory)
    assert code == 0, run.output
    for name in k8s:
        actions = {c["resource"]: c["status"] for c in changes(run.document(), name)}
        assert actions[f"file {REMOTE_DIR}/busybox.tar"] == "applied" and actions["images of busybox.tar in containerd"] == "applied"
        assert IMAGE in lab.sh(name, "ctr -n k8s.io images ls -q").split()
        assert lab.sh(name, f"ctr -n k8s.io run --rm --snapshotter native {IMAGE} bundle-check /bin/echo from-the-bundle").strip() == "from-the-bundle"
    code, again = lab.fab("-H", "k8s", "bootstrap", inventory=inventory)
    assert code == 0 and again.document()["totals"]["changed"] == 0, again.output


def test_kubernetes_up_reads_the_nodes_and_refuses_without_kubeadm_naming_the_node(lab):
    code, run = lab.fab("kubernetes.up", report=False)
    assert code == 1
    assert "kubeadm is not installed on cp1" in run.output, run.output


def test_kubernetes_reset_without_yes_is_refused(lab):
    code, run = lab.fab("kubernetes.reset", report=False)
    assert code == 1 and "--yes" in run.output, run.output


def test_the_lab_notes_that_kubeadm_cannot_be_installed_and_fails_no_host(lab):
    code, run = lab.fab("-H", "k8s", "bootstrap")
    document = run.document()
    assert code == 0, run.output
    for name in (h.name for h in lab.inventory.with_role("kubernetes")):
        assert any("not installed: the package source is unreachable" in n for n in document["hosts"][name]["notes"])


# -- the package bundle: apt's own dependency resolution, with no network ------------------------------

#: stand-ins made here with dpkg-deb (no Kubernetes package is reachable): the real package names and the
#: dependency relations of the per-minor repository's packages (kubelet needs kubernetes-cni, kubeadm
#: cri-tools); they install documentation files only, and Debian's own dependencies are left out
STAND_INS = {
    "kubeadm": ("1.35.9-1.1", "cri-tools (>= 1.30.0), kubelet (>= 1.35.0)"),
    "kubelet": ("1.35.9-1.1", "kubernetes-cni (>= 1.2.0)"),
    "kubectl": ("1.35.9-1.1", ""),
    "kubernetes-cni": ("1.7.1-1.1", ""),
    "cri-tools": ("1.35.0-1.1", ""),
}
DEBS = "/var/tmp/fleetfab-bundle-test"
REMOVE = f"apt-mark unhold kubeadm kubelet kubectl >/dev/null 2>&1 || true; apt-get -q -y purge {' '.join(STAND_INS)} >/dev/null 2>&1 || true"


def stand_in(folder, name: str, version: str, depends: str):
    root = folder / f"{name}-root"
    (root / "DEBIAN").mkdir(parents=True)
    (root / "usr" / "share" / "doc" / name).mkdir(parents=True)
    (root / "usr" / "share" / "doc" / name / "STAND-IN").write_text("a fleetfab test stand-in, not the real package\n")
    control = f"Package: {name}\nVersion: {version}\nArchitecture: all\nMaintainer: fleetfab tests <tests@example.com>\n"
    control += (f"Depends: {depends}\n" if depends else "") + "Description: stand-in for the bundle test\n"
    (root / "DEBIAN" / "control").write_text(control)
    deb = folder / f"{name}_{version}_all.deb"
    subprocess.run(["dpkg-deb", "--build", "--root-owner-group", str(root), str(deb)], check=True, capture_output=True)
    return deb


@pytest.fixture
def stand_in_bundle(lab, tmp_path):
    if not shutil.which("dpkg-deb"):
        pytest.skip("the test runner has no dpkg-deb to build the stand-in packages")
    debs = [stand_in(tmp_path, name, version, depends) for name, (version, depends) in STAND_INS.items()]
    lab.sh(NODE, f"{REMOVE}; rm -rf {DEBS}; mkdir -p {DEBS}")
    for deb in debs:
        lab.docker("cp", str(deb), f"{lab.container(NODE)}:{DEBS}/{deb.name}")
    yield debs
    lab.sh(NODE, f"{REMOVE}; rm -rf {DEBS}")
    assert lab.sh(NODE, f"dpkg-query -W {' '.join(STAND_INS)} 2>/dev/null | grep -c . || true").strip() == "0"


def test_the_bundle_install_resolves_every_dependency_from_the_bundle_with_no_download(lab, stand_in_bundle):
    from fleetfab.roles.kubernetes.packages import install_script

    out = lab.sh(NODE, "set -e\n" + install_script("1.35.9", ("kubeadm", "kubelet", "kubectl"), DEBS)
                 + "dpkg-query -W -f='${Package} ${db:Status-Status} ${Version}\\n' " + " ".join(STAND_INS) + "\n")
    found = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line.split()[:1] and line.split()[0] in STAND_INS}
    assert found == {name: ["installed", version] for name, (version, _) in STAND_INS.items()}, out


def test_a_bundle_missing_a_dependency_stops_apt_naming_it(lab, stand_in_bundle):
    from fleetfab.roles.kubernetes.packages import install_script

    lab.sh(NODE, f"rm -f {DEBS}/kubernetes-cni_*.deb")
    result = subprocess.run(["docker", "exec", "-i", lab.container(NODE), "sh", "-s"], capture_output=True, text=True,
                            input="set -e\n" + install_script("1.35.9", ("kubeadm", "kubelet", "kubectl"), DEBS))
    assert result.returncode != 0 and "kubernetes-cni" in result.stdout + result.stderr
