"""containerd's configuration, checked by what Debian's own containerd binary reads from it.

`containerd config dump` prints the effective configuration (defaults
merged) and exits 0 for unknown keys and for a file of another schema, so
the role's check reads its output. These tests run the real binary
(Debian 12's 1.6.20, installed by scripts/setup) on the files the role
renders; schema 3 needs containerd 2.x, which no Debian stable release has.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from fleetfab.roles.kubernetes import containerd
from fleetfab.roles.kubernetes.versions import Version, containerd_problem, containerd_schema, containerd_version
from tests.unit.test_kubernetes_role import CONTAINERD_16, CONTAINERD_20, content, desired, inventory_of  # noqa: F401

CONTAINERD_17 = "containerd github.com/containerd/containerd 1.7.24~ds1 1.7.24~ds1-1"
CONTAINERD_21 = "containerd github.com/containerd/containerd/v2 v2.1.9 ce3ccdc7"
CONFIG = "/etc/containerd/config.toml"


def installed() -> str:
    if not shutil.which("containerd"):
        pytest.skip("no containerd binary here: scripts/setup installs Debian's")
    return subprocess.run(["containerd", "--version"], capture_output=True, text=True, check=True).stdout


def binary_schema() -> int:
    return containerd_schema(installed())


def check(tmp_path, text: str, version_text: str, sandbox: str, snapshotter: str = "overlayfs"):
    """The role's own validation command, run by sh on a candidate file with the real containerd."""
    candidate = tmp_path / "config.toml"
    candidate.write_text(text)
    command = containerd.validate_command(containerd.effective(version_text, sandbox, snapshotter)).replace("%s", str(candidate))
    return subprocess.run(["sh", "-c", command], capture_output=True, text=True)


def dumped(tmp_path, text: str) -> str:
    candidate = tmp_path / "dump.toml"
    candidate.write_text(text)
    return subprocess.run(["containerd", "--config", str(candidate), "config", "dump"], capture_output=True, text=True, check=True).stdout


def rendered(inventory_of, version_text: str) -> str:  # noqa: F811
    return content(desired(inventory_of(), "cp1", version_text), CONFIG)


SANDBOX = "registry.example.com/k8s/pause:3.10.1"


def test_the_installed_containerd_reads_systemd_cgroups_the_sandbox_and_the_cni_folders_from_the_schema_2_file(tmp_path, inventory_of):  # noqa: F811
    if binary_schema() != 2:
        pytest.skip("the containerd here reads schema 3")
    dump = dumped(tmp_path, rendered(inventory_of, installed()))
    options = dump.split('[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]', 1)[1].split("[", 1)[0]
    assert "SystemdCgroup = true" in options
    assert f'sandbox_image = "{SANDBOX}"' in dump
    assert 'bin_dir = "/opt/cni/bin"' in dump and 'conf_dir = "/etc/cni/net.d"' in dump


def test_the_roles_check_accepts_the_file_it_renders_for_the_installed_containerd(tmp_path, inventory_of):  # noqa: F811
    version_text = installed()
    result = check(tmp_path, rendered(inventory_of, version_text), version_text, SANDBOX)
    assert result.returncode == 0, result.stderr


def test_a_misspelled_key_is_refused_although_containerd_exits_0_on_it(tmp_path, inventory_of):  # noqa: F811
    version_text = installed()
    text = rendered(inventory_of, version_text).replace("SystemdCgroup = true", "SystemdCgroups = true")
    result = check(tmp_path, text, version_text, SANDBOX)
    assert result.returncode == 1 and "SystemdCgroup=true" in result.stderr


def test_a_schema_3_file_is_refused_by_a_containerd_that_reads_schema_2(tmp_path, inventory_of):  # noqa: F811
    version_text = installed()
    if binary_schema() != 2:
        pytest.skip("the containerd here reads schema 3")
    result = check(tmp_path, rendered(inventory_of, CONTAINERD_21), version_text, SANDBOX)
    assert result.returncode == 1 and "sandbox_image" in result.stderr


def test_a_file_that_is_not_toml_is_refused(tmp_path):
    version_text = installed()
    assert check(tmp_path, "version = = 2\n", version_text, SANDBOX).returncode == 1


def test_a_schema_3_file_is_checked_by_a_containerd_2_that_reads_it(tmp_path, inventory_of):  # noqa: F811
    if binary_schema() != 3:
        pytest.skip("Debian 12 (and 13) have no containerd 2.x to read schema 3; the lab and this machine run 1.6.20")
    version_text = installed()
    assert check(tmp_path, rendered(inventory_of, version_text), version_text, SANDBOX).returncode == 0


# -- which schema and which CNI key --------------------------------------------------------


def test_containerd_2_0_gets_one_bin_dir_and_2_1_a_list(inventory_of):  # noqa: F811
    v20, v21 = rendered(inventory_of, CONTAINERD_20), rendered(inventory_of, CONTAINERD_21)
    assert "bin_dir = '/opt/cni/bin'" in v20 and "bin_dirs" not in v20
    assert "bin_dirs = ['/opt/cni/bin']" in v21


def test_the_version_is_read_from_what_containerd_prints():
    assert containerd_version(CONTAINERD_16) == (1, 6, 20) and containerd_version(CONTAINERD_20) == (2, 0, 2)


# -- which Kubernetes a containerd runs ------------------------------------------------------


def test_debian_12s_containerd_cannot_run_1_35_and_the_refusal_names_debian_13s():
    problem = containerd_problem(Version.parse("1.35.9"), CONTAINERD_16)
    assert problem.startswith("Kubernetes 1.35 needs containerd 1.7.24 or later and this host has 1.6.20")
    assert "Debian 13's containerd 1.7.24" in problem and "none upstream still supports" in problem


def test_debian_13s_containerd_runs_1_35():
    assert containerd_problem(Version.parse("1.35.9"), CONTAINERD_17) is None


def test_1_36_needs_containerd_2_and_says_no_debian_stable_release_has_it():
    problem = containerd_problem(Version.parse("1.36.4"), CONTAINERD_17)
    assert "needs containerd 2.0.4 or later" in problem and "no Debian stable release has one" in problem
    assert "(1.35)" in problem


def test_containerd_2_runs_1_37():
    assert containerd_problem(Version.parse("1.37.1"), CONTAINERD_21) is None
