"""The kubernetes role's own resources: canned probe output in, the change (or note) out."""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import subprocess
import tarfile

import pytest

from fleetfab.redact import Redactor
from fleetfab.roles.kubernetes import kubeadm
from fleetfab.roles.kubernetes.copied import CopiedFile
from fleetfab.roles.kubernetes.health import CertificatesFresh, NodesHealthy
from fleetfab.roles.kubernetes.imagearchive import image_archive
from fleetfab.roles.kubernetes.images import ImportedImages, archive_names, normalised
from fleetfab.roles.kubernetes.packages import KubePackages, bundle_install
from fleetfab.roles.kubernetes.prereqs import KernelModules, SwapOff
from fleetfab.roles.kubernetes.versions import Version, containerd_schema, upgrade_problem
from tests.unit.test_kubernetes_kubeadm import EXPIRATION_TEXT, JOINED_CONTROL_PLANE, node, node_list

MODULES = KernelModules()


def modules_output(overlay="loaded", br="loaded", modprobe="yes", container="none") -> str:
    return f"overlay {overlay}\nbr_netfilter {br}\nmodprobe {modprobe}\ncontainer {container}\n"


# -- kernel modules --------------------------------------------------------------------


def test_loaded_modules_need_nothing_and_say_nothing():
    assert MODULES.compare(modules_output()) is None and MODULES.note(modules_output()) is None


def test_a_missing_module_is_loaded_where_the_host_can_load_it():
    change = MODULES.compare(modules_output(br="absent"))
    assert change.data == ("br_netfilter",) and "modprobe br_netfilter" in MODULES.fix(change)


def test_a_container_that_lacks_a_module_gets_a_note_not_a_change():
    output = modules_output(br="absent", modprobe="no", container="docker")
    assert MODULES.compare(output) is None
    assert "br_netfilter" in MODULES.note(output) and "docker container" in MODULES.note(output)


def test_a_host_without_modprobe_is_told_too():
    output = modules_output(overlay="absent", modprobe="no")
    assert MODULES.compare(output) is None and "no modprobe" in MODULES.note(output)


def test_the_module_probe_counts_a_built_in_br_netfilter_by_its_sysctl_folder():
    assert "/proc/sys/net/bridge" in MODULES.probe()


def test_the_module_probe_runs_in_a_real_shell_and_answers_every_line_once():
    out = subprocess.run(["sh", "-c", MODULES.probe()], capture_output=True, text=True, check=True).stdout
    assert [line.split()[0] for line in out.splitlines()] == ["overlay", "br_netfilter", "modprobe", "container"]
    assert len(out.splitlines()[-1].split()) == 2  # one word for the container kind, "none" outside one


# -- swap ------------------------------------------------------------------------------------


def test_no_swap_anywhere_needs_nothing():
    assert SwapOff().compare("active 0\nfstab 0\n") is None


def test_active_swap_and_an_fstab_line_are_both_reported():
    assert SwapOff().compare("active 1\nfstab 2\n").summary == "1 swap area(s) active; 2 swap line(s) in /etc/fstab"


def test_turning_swap_off_comments_the_fstab_lines_out_keeping_a_backup():
    script = SwapOff().fix(SwapOff().compare("active 1\nfstab 1\n"))
    assert script.index("swapoff -a") < script.index("awk") and "/var/backups/fleetfab" in script


def test_the_fstab_program_comments_out_swap_lines_only(tmp_path):
    fstab = tmp_path / "fstab"
    fstab.write_text("UUID=1 / ext4 defaults 0 1\n/swapfile none swap sw 0 0\n# /old none swap sw 0 0\n")
    script = SwapOff().fix(SwapOff().compare("active 0\nfstab 1\n"))
    awk = next(l for l in script.splitlines() if " awk " in l).replace("/etc/fstab", str(fstab)).replace('> "$tmp"', "")
    out = subprocess.run(["sh", "-c", awk], capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == ["UUID=1 / ext4 defaults 0 1", "# swap off for kubelet (fleetfab): /swapfile none swap sw 0 0",
                                "# /old none swap sw 0 0"]


# -- kubeadm, kubelet, kubectl -------------------------------------------------------------------


def packages_output(version="1.35.9-1.1", want="hold", missing=()) -> str:
    return "".join(f"{p} installed {want} {version}\n" for p in ("kubeadm", "kubelet", "kubectl") if p not in missing)


def test_held_packages_at_the_pinned_version_need_nothing():
    assert KubePackages("1.35.9").compare(packages_output()) is None


def test_missing_packages_are_installed_at_the_exact_version_then_held():
    packages = KubePackages("1.35.9")
    change = packages.compare(packages_output(missing=("kubelet",)))
    script = packages.fix(change)
    assert change.data == ("kubelet",)
    assert script.index("apt-mark unhold kubelet") < script.index("'kubelet=1.35.9-*'") < script.index("apt-mark hold kubelet")


def test_a_package_that_is_not_held_is_held():
    change = KubePackages("1.35.9").compare(packages_output(want="install"))
    assert change.action == "hold" and "apt-mark hold kubeadm kubelet kubectl" in KubePackages("1.35.9").fix(change)


def test_another_version_is_drift_that_bootstrap_only_notes_and_the_upgrade_settles():
    packages = KubePackages("1.36.4")
    change = packages.compare(packages_output())
    assert change.action == "report" and "`fab kubernetes.upgrade` moves the cluster to it" in change.summary
    assert "exit 3" in packages.fix(change)


def test_an_unreachable_source_installs_nothing_and_says_so():
    packages = KubePackages("1.35.9", installable=False)
    assert packages.compare("") is None
    assert "not installed: the package source is unreachable" in packages.note("")


def test_a_bundle_installs_from_the_copied_files():
    packages = KubePackages("1.35.9", bundle="/var/lib/fleetfab/kubernetes/debs")
    script = packages.fix(packages.compare(""))
    assert "/var/lib/fleetfab/kubernetes/debs/kubeadm_1.35.9-*.deb" in script and "apt-get -q update" not in script
    assert "Dir::Etc::SourceList=/dev/null" in script


def test_a_bundle_install_takes_every_dependency_deb_and_only_the_pinned_version_of_the_three(tmp_path):
    """The bundle script run by sh over a folder of files (apt-get stood in by a function that prints its arguments)."""
    for name in ("kubeadm_1.35.9-1.1_amd64.deb", "kubeadm_1.36.4-1.1_amd64.deb", "kubelet_1.35.9-1.1_amd64.deb",
                 "kubectl_1.35.9-1.1_amd64.deb", "kubernetes-cni_1.7.1-1.1_amd64.deb", "cri-tools_1.35.0-1.1_amd64.deb"):
        (tmp_path / name).write_bytes(b"!<arch>\n")
    script = bundle_install(Version.parse("1.35.9"), ("kubeadm", "kubelet", "kubectl"), str(tmp_path))
    script = script.replace("DEBIAN_FRONTEND=noninteractive apt-get", "apt_get")
    out = subprocess.run(["sh", "-c", "apt_get() { echo \"$@\"; }\n" + script], capture_output=True, text=True, check=True).stdout
    given = {word.rsplit("/", 1)[-1] for word in out.split() if word.endswith(".deb")}
    assert given == {"kubeadm_1.35.9-1.1_amd64.deb", "kubelet_1.35.9-1.1_amd64.deb", "kubectl_1.35.9-1.1_amd64.deb",
                     "kubernetes-cni_1.7.1-1.1_amd64.deb", "cri-tools_1.35.0-1.1_amd64.deb"}


def test_a_bundle_without_the_pinned_version_stops_naming_it(tmp_path):
    script = bundle_install(Version.parse("1.36.4"), ("kubelet",), str(tmp_path))
    result = subprocess.run(["sh", "-c", "set -e\n" + script], capture_output=True, text=True)
    assert result.returncode == 3 and "the bundle has no kubelet 1.36.4" in result.stderr


# -- copied files and images -----------------------------------------------------------------------


def test_a_copied_file_with_the_same_digest_is_left_alone(tmp_path):
    source = tmp_path / "key.gpg"
    source.write_bytes(b"\x99binary key")
    digest = hashlib.sha256(b"\x99binary key").hexdigest()
    assert CopiedFile(str(source), "/etc/apt/keyrings/k.gpg").compare(f"644\n{digest}  -\n") is None


def test_a_copied_file_that_differs_is_sent_and_checked_on_arrival(tmp_path):
    source = tmp_path / "key.gpg"
    source.write_bytes(b"\x99binary key")
    copied = CopiedFile(str(source), "/etc/apt/keyrings/k.gpg")
    change = copied.compare("644\n" + "0" * 64 + "  -\n")
    assert change.action == "update" and "copy arrived damaged" in copied.fix(change)


def test_a_copied_file_arrives_byte_for_byte_through_a_real_shell(tmp_path):
    source, target = tmp_path / "image.tar", tmp_path / "out" / "image.tar"
    source.write_bytes(bytes(range(256)) * 40)
    copied = CopiedFile(str(source), str(target))
    subprocess.run(["sh", "-c", copied.fix(copied.compare("absent\n"))], check=True)
    assert target.read_bytes() == source.read_bytes()


def test_an_oci_archive_names_its_image():
    archive = image_archive(b"\x7fELF", "registry.lab.test/tools/busybox:1.35")
    path = io.BytesIO(archive)
    with tarfile.open(fileobj=path) as tar:
        index = json.load(tar.extractfile("index.json"))
    assert index["manifests"][0]["annotations"]["io.containerd.image.name"] == "registry.lab.test/tools/busybox:1.35"


def test_the_same_binary_always_gives_the_same_archive():
    assert image_archive(b"\x7fELF", "a.test/b:1") == image_archive(b"\x7fELF", "a.test/b:1")


def test_names_are_read_from_an_archive_on_disk(tmp_path):
    path = tmp_path / "b.tar"
    path.write_bytes(image_archive(b"\x7fELF", "a.test/b:1"))
    assert archive_names(str(path), 0) == ("a.test/b:1",)


def test_an_archive_with_no_image_name_is_refused(tmp_path):
    path = tmp_path / "empty.tar"
    with tarfile.open(path, "w"):
        pass
    with pytest.raises(ValueError, match="neither an OCI layout"):
        archive_names(str(path), 0)


def test_imported_images_are_left_alone_and_missing_ones_imported_with_the_snapshotter():
    images = ImportedImages("/var/lib/fleetfab/kubernetes/images/b.tar", ("a.test/b:1",), "native")
    assert images.compare("a.test/b:1\nsha256:abc\n") is None
    change = images.compare("")
    assert "ctr -n k8s.io images import --snapshotter native /var/lib/fleetfab/kubernetes/images/b.tar" in images.fix(change)


def test_a_short_docker_name_is_compared_by_its_full_reference():
    assert normalised("busybox:1") == "docker.io/library/busybox:1" and normalised("a.test/b:1") == "a.test/b:1"


# -- versions and secrets --------------------------------------------------------------------------


@pytest.mark.parametrize("text, schema", [("containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1", 2),
                                          ("containerd containerd.io 1.7.24 88bf19b2", 2),
                                          ("containerd github.com/containerd/containerd/v2 v2.0.2 c507a02", 3)])
def test_the_config_schema_follows_the_installed_containerd(text, schema):
    assert containerd_schema(text) == schema


def test_one_minor_up_is_an_upgrade_kubeadm_allows():
    assert upgrade_problem(Version.parse("1.35.9"), Version.parse("1.36.0")) is None


def test_a_patch_release_of_the_same_minor_is_allowed():
    assert upgrade_problem(Version.parse("1.35.9"), Version.parse("1.35.10")) is None


def test_the_join_secrets_never_survive_the_redactor():
    join = kubeadm.parse_join_command("kubeadm join a.test:6443 --token abcdef.0123456789abcdef "
                                      "--discovery-token-ca-cert-hash sha256:" + "1" * 64 + " --control-plane --certificate-key " + "f" * 64)
    redact = Redactor()
    redact.add(*join.secrets())
    shown = redact(kubeadm.join_script(join))
    assert "abcdef.0123456789abcdef" not in shown and "f" * 64 not in shown and "<redacted>" in shown


# -- the running cluster, as drift sees it ------------------------------------------------------------

HEALTH = NodesHealthy("1.35.9", (("cp1", "100.64.0.10"), ("w1", "100.64.0.21")))


def test_without_a_cluster_there_is_nothing_to_check():
    assert HEALTH.compare("@no-cluster\n") is None and CertificatesFresh(30).compare("@no-cluster\n") is None


def test_ready_nodes_at_the_pinned_version_on_their_mesh_addresses_are_healthy():
    assert HEALTH.compare(node_list(node("cp1"), node("w1", ip="100.64.0.21"))) is None


def test_a_node_not_ready_is_drift_a_bootstrap_does_not_repair():
    change = HEALTH.compare(node_list(node("cp1"), node("w1", ready="False", ip="100.64.0.21")))
    assert change.action == "report" and "w1 is NotReady (Ready: KubeletNotReady)" in change.summary
    assert "exit 3" in HEALTH.fix(change)


def test_a_node_on_another_version_is_drift():
    change = HEALTH.compare(node_list(node("cp1", version="v1.30.8"), node("w1", ip="100.64.0.21")))
    assert change.summary == "cp1 runs v1.30.8, the inventory pins 1.35.9"


def test_a_node_registered_off_the_mesh_is_drift():
    change = HEALTH.compare(node_list(node("cp1"), node("w1", ip="198.18.0.21")))
    assert change.summary == "w1 registered 198.18.0.21, not its mesh address 100.64.0.21"


def test_a_node_missing_from_the_cluster_is_drift():
    assert HEALTH.compare(node_list(node("cp1"))).summary == "w1 is not in the cluster"


def test_a_certificate_within_the_margin_is_drift_that_bootstrap_only_notes_and_never_renews():
    now = datetime.datetime(2026, 4, 11, tzinfo=datetime.timezone.utc)
    fresh = CertificatesFresh(30)
    change = fresh.compare(EXPIRATION_TEXT, now=now)
    assert change.action == "report" and change.summary == "apiserver expires in 20 days: run `fab kubernetes.renew`"
    assert "renew" not in fresh.fix(change).split("echo", 1)[0] and "kubeadm certs renew" not in fresh.fix(change)


def test_certificates_far_from_expiry_need_nothing():
    now = datetime.datetime(2026, 4, 11, tzinfo=datetime.timezone.utc)
    assert CertificatesFresh(10).compare(EXPIRATION_TEXT, now=now) is None


def test_a_healthy_joined_control_plane_node_is_not_drift():
    now = datetime.datetime(2026, 4, 21, 9, tzinfo=datetime.timezone.utc)
    assert CertificatesFresh(30).compare(JOINED_CONTROL_PLANE, now=now) is None


def test_a_ca_within_the_margin_is_reported_as_one_to_rotate_by_hand():
    now = datetime.datetime(2036, 4, 1, tzinfo=datetime.timezone.utc)
    change = CertificatesFresh(30).compare(JOINED_CONTROL_PLANE, now=now)
    assert change.action == "report" and "CA etcd-ca expires in 17 days: kubeadm does not renew CAs" in change.summary
