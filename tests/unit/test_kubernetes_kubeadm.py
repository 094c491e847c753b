"""kubeadm's and kubectl's answers, read from the formats they print (samples recorded from their documentation)."""

from __future__ import annotations

import datetime
import json
import os
import subprocess
from pathlib import Path

import pytest

from fleetfab.roles.kubernetes import kubeadm
from fleetfab.roles.kubernetes.kubeadm import JoinCommand, ParseError
from fleetfab.roles.kubernetes.kubeadmconfig import HASH_PLACEHOLDER, KEY_PLACEHOLDER, TOKEN_PLACEHOLDER
from fleetfab.roles.kubernetes.packages import PackageSource
from fleetfab.roles.kubernetes.versions import Version

TOKEN = "k3ub9x.4rt1bq2hd8s0zv7c"
HASH = "sha256:" + "7c" * 32
KEY = "9a" * 32
UTC = datetime.timezone.utc

#: `kubeadm token create --print-join-command`: one line, a trailing space
PRINTED = f"kubeadm join k8s-api.example.com:6443 --token {TOKEN} --discovery-token-ca-cert-hash {HASH} \n"

#: the advice at the end of `kubeadm init --upload-certs`, continued over lines with tabs
INIT_ADVICE = f"""Your Kubernetes control-plane has initialized successfully!

You can now join any number of control-plane nodes running the following command on each as root:

  kubeadm join k8s-api.example.com:6443 --token {TOKEN} \\
\t--discovery-token-ca-cert-hash {HASH} \\
\t--control-plane --certificate-key {KEY}

Please note that the certificate-key gives access to cluster sensitive data, keep it secret!
"""

UPLOAD_CERTS = f"""I0412 10:01:02.123456   4242 version.go:256] remote version is much newer: v1.32.0; falling back to: stable-1.31
[upload-certs] Storing the certificates in Secret "kubeadm-certs" in the "kube-system" Namespace
[upload-certs] Using certificate key:
{KEY}
"""

EXPIRATION_TEXT = """[check-expiration] Reading configuration from the cluster...
[check-expiration] FYI: You can look at this config file with 'kubectl -n kube-system get cm kubeadm-config -o yaml'

CERTIFICATE                EXPIRES                  RESIDUAL TIME   CERTIFICATE AUTHORITY   EXTERNALLY MANAGED
admin.conf                 Apr 09, 2027 09:17 UTC   364d            ca                      no
apiserver                  May 01, 2026 09:16 UTC   20d             ca                      no
apiserver-etcd-client      Apr 09, 2027 09:16 UTC   364d            etcd-ca                 no
front-proxy-client         Apr 09, 2027 09:16 UTC   364d            front-proxy-ca          yes
super-admin.conf           Apr 09, 2027 09:17 UTC   364d            ca                      no

CERTIFICATE AUTHORITY   EXPIRES                  RESIDUAL TIME   EXTERNALLY MANAGED
ca                      Apr 07, 2035 09:16 UTC   9y              no
etcd-ca                 Apr 07, 2035 09:16 UTC   9y              no
"""

EXPIRATION_JSON = json.dumps({
    "kind": "CertificateExpirationInfo",
    "apiVersion": "output.kubeadm.k8s.io/v1alpha3",
    "certificates": [
        {"name": "admin.conf", "expirationDate": "2027-04-09T09:17:00Z", "residualTime": 31449600,
         "externallyManaged": False, "caName": "ca", "missing": False},
        {"name": "front-proxy-client", "expirationDate": None, "residualTime": 0,
         "externallyManaged": False, "caName": "front-proxy-ca", "missing": True},
    ],
    "certificateAuthorities": [
        {"name": "ca", "expirationDate": "2035-04-07T09:16:00Z", "residualTime": 283996800,
         "externallyManaged": False, "missing": False},
    ],
})

JOINED_CONTROL_PLANE = (Path(__file__).parent / "fixtures" / "kubernetes" / "check-expiration-joined-control-plane.json").read_text()
SOURCE = PackageSource("repository", "https://packages.example.com/k8s/v{minor}/deb/", "/etc/apt/keyrings/kubernetes-apt-keyring.asc")


def node(name, ready="True", version="v1.35.9", ip="100.64.0.10", unschedulable=False, pressure="False"):
    return {
        "metadata": {"name": name},
        "spec": {"unschedulable": True} if unschedulable else {},
        "status": {
            "addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}],
            "conditions": [
                {"type": "MemoryPressure", "status": pressure, "reason": "KubeletHasSufficientMemory"},
                {"type": "Ready", "status": ready, "reason": "KubeletReady" if ready == "True" else "KubeletNotReady"},
            ],
            "nodeInfo": {"kubeletVersion": version, "containerRuntimeVersion": "containerd://1.7.24"},
        },
    }


def node_list(*items) -> str:
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": list(items)})


# -- the join command ---------------------------------------------------------------


def test_the_printed_join_command_gives_endpoint_token_and_ca_hash():
    assert kubeadm.parse_join_command(PRINTED) == JoinCommand("k8s-api.example.com:6443", TOKEN, (HASH,))


def test_a_join_command_continued_over_lines_is_read_as_one():
    join = kubeadm.parse_join_command(INIT_ADVICE)
    assert (join.endpoint, join.token, join.ca_hashes) == ("k8s-api.example.com:6443", TOKEN, (HASH,))


def test_the_control_plane_join_carries_its_certificate_key():
    join = kubeadm.parse_join_command(INIT_ADVICE)
    assert join.control_plane and join.certificate_key == KEY


def test_options_written_with_an_equals_sign_are_read_too():
    text = f"kubeadm join 100.64.0.10:6443 --token={TOKEN} --discovery-token-ca-cert-hash={HASH}"
    assert kubeadm.parse_join_command(text).token == TOKEN


def test_warnings_printed_before_the_join_line_are_ignored():
    assert kubeadm.parse_join_command("W0101 00:00:00 warning: something\n" + PRINTED).token == TOKEN


def test_a_join_command_without_the_ca_hash_is_refused():
    with pytest.raises(ParseError, match="does not pin the CA"):
        kubeadm.parse_join_command(f"kubeadm join a:6443 --token {TOKEN} --discovery-token-unsafe-skip-ca-verification")


def test_a_malformed_token_is_refused():
    with pytest.raises(ParseError, match="token"):
        kubeadm.parse_join_command(f"kubeadm join a:6443 --token short --discovery-token-ca-cert-hash {HASH}")


def test_output_without_a_join_line_is_refused():
    with pytest.raises(ParseError, match="no `kubeadm join` line"):
        kubeadm.parse_join_command("error: could not create token\n")


def test_the_join_secrets_are_the_token_and_the_certificate_key():
    assert set(kubeadm.parse_join_command(INIT_ADVICE).secrets()) == {TOKEN, KEY}


def test_upload_certs_gives_the_key_on_its_last_line():
    assert kubeadm.parse_certificate_key(UPLOAD_CERTS) == KEY


# -- the join script --------------------------------------------------------------


def test_the_join_script_fills_the_placeholders_in_a_private_copy_and_removes_it():
    script = kubeadm.join_script(JoinCommand("a:6443", TOKEN, (HASH,), True, KEY))
    assert "umask 077" in script and "trap 'rm -f \"$private\"' EXIT" in script


def test_the_join_script_never_puts_the_token_on_kubeadms_command_line():
    script = kubeadm.join_script(JoinCommand("a:6443", TOKEN, (HASH,)))
    [join_line] = [l for l in script.splitlines() if l.startswith("kubeadm join")]
    assert TOKEN not in join_line


def test_the_join_secrets_appear_only_in_seds_program_on_its_standard_input():
    script = kubeadm.join_script(JoinCommand("a:6443", TOKEN, (HASH,), True, KEY))
    lines = script.splitlines()
    start, end = lines.index("sed -f /dev/stdin /etc/fleetfab/kubernetes/join.yaml > \"$private\" <<'FLEETFAB_JOIN'"), lines.index("FLEETFAB_JOIN")
    outside = lines[:start + 1] + lines[end:]
    assert not any(TOKEN in l or KEY in l for l in outside)
    assert any(TOKEN in l for l in lines[start:end]) and any(KEY in l for l in lines[start:end])


def test_the_private_copy_gets_the_real_values_through_a_real_sed(tmp_path):
    template = tmp_path / "join.yaml"
    template.write_text(f'token: "{TOKEN_PLACEHOLDER}"\nhash: "{HASH_PLACEHOLDER}"\nkey: "{KEY_PLACEHOLDER}"\n')
    script = kubeadm.join_script(JoinCommand("a:6443", TOKEN, (HASH,), True, KEY))
    body = script.split("trap 'rm -f \"$private\"' EXIT\n", 1)[1].replace("/etc/fleetfab/kubernetes/join.yaml", str(template))
    body = body.replace('kubeadm join --config "$private"', 'cat "$private"')
    out = subprocess.run(["sh", "-ec", f"private={tmp_path}/private\n{body}"], capture_output=True, text=True, check=True).stdout
    assert out == f'token: "{TOKEN}"\nhash: "{HASH}"\nkey: "{KEY}"\n'


def test_a_node_already_joined_is_not_joined_again():
    script = kubeadm.join_script(JoinCommand("a:6443", TOKEN, (HASH,)))
    assert script.index("/etc/kubernetes/kubelet.conf") < script.index("kubeadm join")


def test_init_runs_only_where_admin_conf_is_absent():
    script = kubeadm.init_script()
    assert script.index("[ -e /etc/kubernetes/admin.conf ]") < script.index("kubeadm init")


def stub_kubeadm(tmp_path, init_exit: int) -> dict:
    """A kubeadm on PATH that records its arguments and fails or passes `init`."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "kubeadm").write_text(f'#!/bin/sh\necho "$*" >> {tmp_path}/calls\n[ "$1" != init ] || exit {init_exit}\n')
    (bin_dir / "kubeadm").chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}


def test_a_failed_init_is_undone_by_kubeadm_reset_and_fails(tmp_path):
    result = subprocess.run(["sh", "-c", kubeadm.init_script()], env=stub_kubeadm(tmp_path, 1), capture_output=True, text=True)
    calls = (tmp_path / "calls").read_text().splitlines()
    assert result.returncode == 1 and [c.split()[0] for c in calls] == ["init", "reset"]
    assert "next kubernetes.up starts afresh" in result.stderr


def test_a_successful_init_resets_nothing(tmp_path):
    result = subprocess.run(["sh", "-c", kubeadm.init_script()], env=stub_kubeadm(tmp_path, 0), capture_output=True, text=True)
    assert result.returncode == 0 and [c.split()[0] for c in (tmp_path / "calls").read_text().splitlines()] == ["init"]


# -- certificates -----------------------------------------------------------------


def test_the_expiration_tables_give_every_certificate_and_authority():
    found = kubeadm.parse_expiration_text(EXPIRATION_TEXT)
    assert [c.name for c in found if not c.authority] == ["admin.conf", "apiserver", "apiserver-etcd-client",
                                                          "front-proxy-client", "super-admin.conf"]
    assert [c.name for c in found if c.authority] == ["ca", "etcd-ca"]


def test_an_expiry_date_is_read_in_utc():
    apiserver = next(c for c in kubeadm.parse_expiration_text(EXPIRATION_TEXT) if c.name == "apiserver")
    assert apiserver.expires == datetime.datetime(2026, 5, 1, 9, 16, tzinfo=UTC) and apiserver.signed_by == "ca"


def test_a_certificate_authority_row_has_no_signer():
    ca = next(c for c in kubeadm.parse_expiration_text(EXPIRATION_TEXT) if c.name == "ca")
    assert ca.signed_by == "" and ca.authority


def test_the_json_output_gives_the_same_certificates():
    found = kubeadm.parse_expiration(EXPIRATION_JSON)
    assert [(c.name, c.authority) for c in found] == [("admin.conf", False), ("front-proxy-client", False), ("ca", True)]
    assert found[0].expires == datetime.datetime(2027, 4, 9, 9, 17, tzinfo=UTC)


def test_a_missing_certificate_in_json_has_no_expiry():
    missing = kubeadm.parse_expiration(EXPIRATION_JSON)[1]
    assert missing.missing and missing.expires is None


def test_certificates_within_the_margin_are_due_and_externally_managed_ones_are_not():
    now = datetime.datetime(2026, 4, 11, tzinfo=UTC)
    due = kubeadm.expiring(kubeadm.parse_expiration_text(EXPIRATION_TEXT), now, margin_days=30)
    assert [c.name for c in due] == ["apiserver"]


def test_a_missing_certificate_is_not_due_for_renewal_but_named():
    now = datetime.datetime(2026, 4, 11, tzinfo=UTC)
    found = kubeadm.parse_expiration(EXPIRATION_JSON)
    assert kubeadm.expiring(found, now, 30) == []
    assert kubeadm.certificate_warnings(found, now, 30) == ["front-proxy-client is missing"]


def test_a_joined_control_plane_nodes_missing_super_admin_conf_is_read_as_missing_with_no_date():
    found = {c.name: c for c in kubeadm.parse_expiration(JOINED_CONTROL_PLANE)}
    assert found["super-admin.conf"].missing and found["super-admin.conf"].expires is None
    assert len(found) == 14 and found["ca"].authority


def test_a_healthy_joined_control_plane_node_has_nothing_due_and_nothing_to_warn_of():
    now = datetime.datetime(2026, 4, 21, 9, tzinfo=UTC)
    found = kubeadm.parse_expiration(JOINED_CONTROL_PLANE)
    assert kubeadm.expiring(found, now, 30) == [] and kubeadm.certificate_warnings(found, now, 30) == []


def test_the_same_node_a_year_later_has_every_certificate_due_but_never_a_ca():
    now = datetime.datetime(2027, 4, 1, tzinfo=UTC)
    due = [c.name for c in kubeadm.expiring(kubeadm.parse_expiration(JOINED_CONTROL_PLANE), now, 30)]
    assert len(due) == 10 and "super-admin.conf" not in due and "ca" not in due


def test_a_ca_within_the_margin_is_a_warning_that_renew_cannot_settle():
    now = datetime.datetime(2036, 4, 1, tzinfo=UTC)
    found = kubeadm.parse_expiration(JOINED_CONTROL_PLANE)
    assert [c.name for c in kubeadm.authorities_expiring(found, now, 30)] == ["ca", "etcd-ca", "front-proxy-ca"]
    assert any(w.startswith("CA ca expires in 17 days: kubeadm does not renew CAs") for w in kubeadm.certificate_warnings(found, now, 30))


def test_expiration_output_with_no_rows_is_refused():
    with pytest.raises(ParseError):
        kubeadm.parse_expiration_text("[check-expiration] Reading configuration from the cluster...\n")


# -- nodes -------------------------------------------------------------------------


def test_a_node_with_ready_true_is_ready_and_its_version_and_address_are_read():
    status = kubeadm.parse_nodes(node_list(node("cp1")))["cp1"]
    assert (status.ready, status.kubelet_version, status.internal_ip) == (True, "v1.35.9", "100.64.0.10")


def test_a_node_with_ready_false_is_not_ready_and_says_why():
    status = kubeadm.parse_nodes(node_list(node("worker1", ready="False")))["worker1"]
    assert not status.ready and status.problems == ("Ready: KubeletNotReady",)


def test_a_node_with_ready_unknown_is_not_ready():
    assert not kubeadm.parse_nodes(node_list(node("worker1", ready="Unknown")))["worker1"].ready


def test_a_pressure_condition_that_is_true_is_a_problem():
    assert kubeadm.parse_nodes(node_list(node("w", pressure="True")))["w"].problems == ("MemoryPressure: KubeletHasSufficientMemory",)


def test_a_cordoned_node_is_not_schedulable():
    assert not kubeadm.parse_nodes(node_list(node("w", unschedulable=True)))["w"].schedulable


def test_output_that_is_not_a_node_list_is_refused():
    with pytest.raises(ParseError):
        kubeadm.parse_nodes("error: the server doesn't have a resource type")


# -- package steps -------------------------------------------------------------------


def test_kubelet_is_unheld_installed_at_the_exact_version_held_and_restarted_in_that_order():
    script = kubeadm.upgrade_kubelet_script(Version.parse("1.36.4"), SOURCE)
    order = [script.index(s) for s in ("apt-mark unhold kubelet kubectl", "kubelet=1.36.4-*", "apt-mark hold kubelet kubectl",
                                       "systemctl restart kubelet")]
    assert order == sorted(order)


def test_the_kubeadm_upgrade_touches_only_kubeadm():
    script = kubeadm.upgrade_kubeadm_script(Version.parse("1.36.4"), SOURCE)
    installs = [l for l in script.splitlines() if "apt-get" in l or "apt-mark" in l]
    assert "kubeadm=1.36.4-*" in script and not any("kubelet" in l for l in installs)


def test_an_upgrade_across_a_minor_switches_the_source_and_pin_to_it_before_apt_updates():
    script = kubeadm.upgrade_kubeadm_script(Version.parse("1.36.4"), SOURCE)
    assert script.index("URIs: https://packages.example.com/k8s/v1.36/deb/") < script.index("apt-get -q update")
    assert script.index("Pin: version 1.36.*") < script.index("apt-get -q update")
    assert "/etc/apt/sources.list.d/kubernetes.sources" in script and "/etc/apt/preferences.d/kubernetes" in script


def test_the_switched_source_is_written_whole_by_a_real_shell(tmp_path):
    source = PackageSource("repository", "https://packages.example.com/k8s/v{minor}/deb/", "/k.asc")
    script = source.switch_script(Version.parse("1.36.4")).replace("/etc/apt/sources.list.d", str(tmp_path)).replace(
        "/etc/apt/preferences.d", str(tmp_path))
    subprocess.run(["sh", "-ec", script], check=True)
    assert "URIs: https://packages.example.com/k8s/v1.36/deb/\n" in (tmp_path / "kubernetes.sources").read_text()
    assert "Pin: version 1.36.*\n" in (tmp_path / "kubernetes").read_text()


def test_an_upgrade_from_a_bundle_never_asks_a_repository():
    script = kubeadm.upgrade_kubeadm_script(Version.parse("1.36.4"), PackageSource("bundle"))
    assert "apt-get -q update" not in script and "/var/lib/fleetfab/kubernetes/debs/kubeadm_1.36.4-*.deb" in script
    assert "Dir::Etc::SourceList=/dev/null" in script and "sources.list.d" not in script


def test_after_a_kubelet_upgrade_the_wait_first_sees_the_new_version_then_ready():
    script = kubeadm.wait_ready_script("w1", Version.parse("1.36.4"))
    assert script.index("{.status.nodeInfo.kubeletVersion}") < script.index("wait --for=condition=Ready")
    assert "= v1.36.4 ]" in script


def test_a_wait_with_no_version_only_waits_for_ready():
    assert "kubeletVersion" not in kubeadm.wait_ready_script("w1")


def test_a_kubeconfig_is_pointed_at_the_endpoint_name():
    text = "clusters:\n- cluster:\n    certificate-authority-data: AAAA\n    server: https://100.64.0.10:6443\n  name: lab\n"
    assert "    server: https://k8s-api.lab.test:6443\n" in kubeadm.point_at(text, "k8s-api.lab.test:6443")
