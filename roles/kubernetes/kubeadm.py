"""Everything kubeadm and kubectl are asked to do, and how their answers are read.

Commands are shell text for the engine's one place that runs commands
(fleetfab.remote); answers are parsed here, from the formats kubeadm and
kubectl print. Nothing in this module opens a connection, so every command
and parser is tested without a cluster (tests/unit/test_kubernetes_kubeadm.py).

Tokens and certificate keys are secret: the join command's values are
parsed into a `JoinCommand`, the caller registers them with the run's
redactor at once, and the join itself carries them in its script's body
(the command's standard input), never on a command line another user of
the host could read in `ps`.
"""

from __future__ import annotations

import datetime
import json
import re
import shlex
from dataclasses import dataclass, field

from fleetfab.shell import cmd, q
from fleetfab.roles.kubernetes.kubeadmconfig import (HASH_PLACEHOLDER, INIT_FILE, JOIN_FILE, KEY_PLACEHOLDER,
                                            TOKEN_PLACEHOLDER)
from fleetfab.roles.kubernetes.packages import PackageSource, install_script
from fleetfab.roles.kubernetes.versions import Version

ADMIN_CONF = "/etc/kubernetes/admin.conf"
KUBELET_CONF = "/etc/kubernetes/kubelet.conf"
KUBECTL = f"kubectl --kubeconfig={ADMIN_CONF}"
TOKEN = re.compile(r"[a-z0-9]{6}\.[a-z0-9]{16}")
CA_HASH = re.compile(r"sha256:[0-9a-f]{64}")
CERT_KEY = re.compile(r"[0-9a-f]{64}")
#: a join token lives this long: enough for one join, useless soon after
TOKEN_TTL = "15m"
SNAPSHOT_DIR = "/var/backups/fleetfab/etcd"
ETCD_PKI = "/etc/kubernetes/pki/etcd"
WAIT_READY = "300s"
#: 5-second polls for a restarted kubelet to report its version (5 minutes)
VERSION_POLLS = 60


class ParseError(ValueError):
    """kubeadm or kubectl printed something this module does not understand."""


# -- the join command -----------------------------------------------------------


@dataclass(frozen=True)
class JoinCommand:
    endpoint: str
    token: str
    ca_hashes: tuple[str, ...]
    control_plane: bool = False
    certificate_key: str | None = None

    def secrets(self) -> tuple[str, ...]:
        return (self.token, *([self.certificate_key] if self.certificate_key else []))


def _joined_lines(text: str) -> str:
    """One logical line per command: a backslash at a line's end continues it."""
    return re.sub(r"\\[ \t]*\r?\n[ \t]*", " ", text)


def _options(words: list[str]) -> dict[str, list[str]]:
    """`--name value`, `--name=value` and bare `--flag` (value "")."""
    found: dict[str, list[str]] = {}
    i = 0
    while i < len(words):
        word = words[i]
        if word.startswith("--"):
            name, eq, value = word[2:].partition("=")
            if not eq and i + 1 < len(words) and not words[i + 1].startswith("--"):
                value, i = words[i + 1], i + 1
            found.setdefault(name, []).append(value)
        i += 1
    return found


def parse_join_command(text: str) -> JoinCommand:
    """The `kubeadm join ...` line of `kubeadm token create --print-join-command`
    (or of `kubeadm init`'s closing advice), with its line continuations."""
    line = next((l.strip() for l in _joined_lines(text).splitlines() if l.strip().startswith("kubeadm join ")), None)
    if line is None:
        raise ParseError("no `kubeadm join` line in the output")
    words = shlex.split(line)[2:]
    if not words or words[0].startswith("--"):
        raise ParseError("the join line names no API endpoint")
    options = _options(words[1:])
    token = (options.get("token") or [""])[0]
    hashes = tuple(options.get("discovery-token-ca-cert-hash", []))
    if not TOKEN.fullmatch(token):
        raise ParseError("the join line has no well-formed --token")
    if not hashes or not all(CA_HASH.fullmatch(h) for h in hashes):
        raise ParseError("the join line does not pin the CA (--discovery-token-ca-cert-hash sha256:...)")
    key = (options.get("certificate-key") or [None])[0]
    if key is not None and not CERT_KEY.fullmatch(key):
        raise ParseError("the join line's --certificate-key is not 64 hex digits")
    return JoinCommand(words[0], token, hashes, "control-plane" in options, key)


def parse_certificate_key(text: str) -> str:
    """The key `kubeadm init phase upload-certs --upload-certs` prints on its last line."""
    keys = [l.strip() for l in text.splitlines() if CERT_KEY.fullmatch(l.strip())]
    if not keys:
        raise ParseError("upload-certs printed no certificate key")
    return keys[-1]


# -- certificates ----------------------------------------------------------------


@dataclass(frozen=True)
class Certificate:
    name: str
    expires: datetime.datetime | None
    authority: bool
    signed_by: str = ""
    externally_managed: bool = False
    missing: bool = False

    def days_left(self, now: datetime.datetime) -> float | None:
        return None if self.expires is None else (self.expires - now).total_seconds() / 86400


_ROW = re.compile(r"^(?P<name>\S+)\s+(?P<expires>[A-Z][a-z]{2} \d{2}, \d{4} \d{2}:\d{2} UTC)\s+(?P<residual>\S+)"
                  r"(?:\s+(?P<ca>(?!yes\b|no\b)\S+))?\s+(?P<external>yes|no)\s*$")


def parse_expiration_text(text: str) -> list[Certificate]:
    """The two tables of `kubeadm certs check-expiration`: certificates, then authorities."""
    found, authority = [], False
    for line in text.splitlines():
        if line.startswith("CERTIFICATE AUTHORITY"):
            authority = True
            continue
        missing = re.match(r"^!MISSING!\s+(\S+)", line)
        if missing:
            found.append(Certificate(missing.group(1), None, authority, missing=True))
            continue
        row = _ROW.match(line)
        if row:
            expires = datetime.datetime.strptime(row["expires"], "%b %d, %Y %H:%M UTC").replace(tzinfo=datetime.timezone.utc)
            found.append(Certificate(row["name"], expires, authority, row["ca"] or "", row["external"] == "yes"))
    if not found:
        raise ParseError("no certificate rows in check-expiration's output")
    return found


def parse_expiration_json(text: str) -> list[Certificate]:
    """`kubeadm certs check-expiration -o json` (kind ExpirationInfo, from 1.30)."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseError(f"check-expiration's JSON does not parse: {exc}") from None
    if document.get("kind") != "CertificateExpirationInfo" and document.get("kind") != "ExpirationInfo":
        raise ParseError(f"unexpected kind {document.get('kind')!r}")
    def one(item: dict, authority: bool) -> Certificate:
        stamp = item.get("expirationDate")
        expires = datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00")) if stamp and not item.get("missing") else None
        return Certificate(item["name"], expires, authority, item.get("caName", ""), bool(item.get("externallyManaged")),
                           bool(item.get("missing")))
    return ([one(c, False) for c in document.get("certificates") or []]
            + [one(c, True) for c in document.get("certificateAuthorities") or []])


def parse_expiration(text: str) -> list[Certificate]:
    """Either format: JSON where the version has it, the tables otherwise."""
    return parse_expiration_json(text) if text.lstrip().startswith("{") else parse_expiration_text(text)


#: kubeadm writes super-admin.conf only on the node that ran `kubeadm init`: on every
#: joined control-plane node check-expiration lists it as missing, and that is right
ONLY_WHERE_INIT_RAN = ("super-admin.conf",)


def _near(c: Certificate, now: datetime.datetime, margin_days: int) -> bool:
    return not c.externally_managed and not c.missing and c.days_left(now) < margin_days


def expiring(certificates: list[Certificate], now: datetime.datetime, margin_days: int) -> list[Certificate]:
    """Certificates `kubeadm certs renew all` would renew that expire within the margin
    (never a CA, a missing file or one managed outside kubeadm: renew cannot help those)."""
    return [c for c in certificates if not c.authority and _near(c, now, margin_days)]


def authorities_expiring(certificates: list[Certificate], now: datetime.datetime, margin_days: int) -> list[Certificate]:
    """CAs within the margin: kubeadm never renews a CA, the operator must rotate it."""
    return [c for c in certificates if c.authority and _near(c, now, margin_days)]


def missing_unexpectedly(certificates: list[Certificate]) -> list[Certificate]:
    """Missing files other than those kubeadm writes only where init ran."""
    return [c for c in certificates if c.missing and not c.externally_managed and c.name not in ONLY_WHERE_INIT_RAN]


def certificate_warnings(certificates: list[Certificate], now: datetime.datetime, margin_days: int) -> list[str]:
    """What an operator must act on, one phrase each; empty on a healthy node."""
    told = [f"{c.name} expires in {c.days_left(now):.0f} days: run `fab kubernetes.renew`"
            for c in expiring(certificates, now, margin_days)]
    told += [f"CA {c.name} expires in {c.days_left(now):.0f} days: kubeadm does not renew CAs, rotate it by hand"
             for c in authorities_expiring(certificates, now, margin_days)]
    told += [f"{c.name} is missing" for c in missing_unexpectedly(certificates)]
    return told


# -- nodes -----------------------------------------------------------------------------


@dataclass(frozen=True)
class NodeStatus:
    name: str
    ready: bool
    kubelet_version: str
    internal_ip: str
    schedulable: bool
    problems: tuple[str, ...] = field(default=())


def parse_nodes(text: str) -> dict[str, NodeStatus]:
    """`kubectl get nodes -o json`: each node's Ready condition, kubelet version and address."""
    try:
        items = json.loads(text)["items"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ParseError(f"not a node list: {exc}") from None
    return {n.name: n for n in map(_node, items)}


def _node(item: dict) -> NodeStatus:
    status = item.get("status", {})
    conditions = {c["type"]: c for c in status.get("conditions", [])}
    ready = conditions.get("Ready", {}).get("status") == "True"
    # Pressure conditions are trouble when True; Ready is trouble when not.
    problems = tuple(f"{t}: {c.get('reason', '')}".rstrip(": ") for t, c in conditions.items()
                     if (t == "Ready") != (c.get("status") == "True"))
    addresses = {a["type"]: a["address"] for a in status.get("addresses", [])}
    return NodeStatus(item["metadata"]["name"], ready, status.get("nodeInfo", {}).get("kubeletVersion", ""),
                      addresses.get("InternalIP", ""), not item.get("spec", {}).get("unschedulable", False), problems)


# -- commands --------------------------------------------------------------------------


def init_script() -> str:
    """kubeadm init, once: a host with admin.conf was initialised already and is left alone.

    A failed init leaves admin.conf behind (its kubeconfig phase runs before
    the control plane answers): it is undone with `kubeadm reset` at once, as
    kubeadm advises, so the next `kubernetes.up` starts afresh instead of
    taking the remains for a cluster.
    """
    return (f"set -e\nif [ -e {ADMIN_CONF} ]; then echo 'already initialised ({ADMIN_CONF} exists)'; exit 0; fi\n"
            f"if ! kubeadm init --config {q(INIT_FILE)} --upload-certs; then\n"
            "  echo 'kubeadm init failed: kubeadm reset undoes what it did, so the next kubernetes.up starts afresh' >&2\n"
            "  kubeadm reset --force >&2 || true\n  exit 1\nfi\n")


def print_join_script() -> str:
    return f"set -e\nkubeadm token create --ttl {TOKEN_TTL} --print-join-command --kubeconfig {ADMIN_CONF}\n"


def upload_certs_script() -> str:
    """A fresh certificate key (kubeadm deletes the uploaded certificates after two hours)."""
    return "set -e\nkubeadm init phase upload-certs --upload-certs\n"


def join_script(join: JoinCommand) -> str:
    """Fill the node's join.yaml placeholders in a private copy, join, and remove the copy.

    The values reach sed as its program on standard input (a here-document of
    the script itself), never as an argument: no other account sees them in `ps`.
    """
    pairs = [(TOKEN_PLACEHOLDER, join.token), (HASH_PLACEHOLDER, join.ca_hashes[0])]
    if join.certificate_key:
        pairs.append((KEY_PLACEHOLDER, join.certificate_key))
    program = "\n".join(_quoted_substitution(old, new) for old, new in pairs)
    return (f"set -e\nif [ -e {KUBELET_CONF} ]; then echo 'already joined ({KUBELET_CONF} exists)'; exit 0; fi\n"
            "umask 077\nprivate=$(mktemp /etc/fleetfab/kubernetes/.join.XXXXXX)\ntrap 'rm -f \"$private\"' EXIT\n"
            f"sed -f /dev/stdin {q(JOIN_FILE)} > \"$private\" <<'FLEETFAB_JOIN'\n{program}\nFLEETFAB_JOIN\n"
            "kubeadm join --config \"$private\"\n")


def _quoted_substitution(placeholder: str, value: str) -> str:
    """A sed substitution of the whole quoted YAML value: the placeholders are all zeros, so unanchored
    the token's would match inside the CA hash's and the key's."""
    return f's|"{re.escape(placeholder)}"|"{value}"|'


def state_script() -> str:
    """What the planner needs of one node, one `key value` a line.

    `serving`: admin.conf reaches a cluster that kubeadm's init finished (its
    bootstrap-token phase publishes kube-public/cluster-info, which joins read).
    """
    return (f"echo admin_conf $([ -e {ADMIN_CONF} ] && echo yes || echo no)\n"
            f"if [ -e {ADMIN_CONF} ]; then echo serving $({KUBECTL} -n kube-public get configmap cluster-info "
            "--request-timeout=10s >/dev/null 2>&1 && echo yes || echo no); fi\n"
            f"echo kubelet_conf $([ -e {KUBELET_CONF} ] && echo yes || echo no)\n"
            "echo kubeadm $(kubeadm version -o short 2>/dev/null || echo none)\n"
            "echo kubelet $(dpkg-query -W -f='${Version}' kubelet 2>/dev/null || echo none)\n")


def parse_state(text: str) -> dict[str, str]:
    return dict(line.split(" ", 1) for line in text.splitlines() if " " in line)


def nodes_script() -> str:
    return f"set -e\n{KUBECTL} get nodes -o json\n"


def wait_ready_script(node: str, version: Version | None = None) -> str:
    """Ready; after an upgrade, first the node's kubelet reporting the new version, since right
    after the restart the node is still Ready with the old one and `kubectl wait` would return at once."""
    first = ""
    if version is not None:
        jsonpath = q("jsonpath={.status.nodeInfo.kubeletVersion}")
        first = (f"i=0\nuntil [ \"$({KUBECTL} get node {q(node)} -o {jsonpath} 2>/dev/null)\" = {q(version.tag)} ]; do\n"
                 f"  i=$((i+1)); [ $i -le {VERSION_POLLS} ] || {{ echo {q(f'{node} still reports another kubelet version than {version.tag}')} >&2; exit 1; }}\n"
                 f"  sleep 5\ndone\n")
    return f"set -e\n{first}{KUBECTL} wait --for=condition=Ready {q('node/' + node)} --timeout={WAIT_READY}\n"


def drain_script(node: str) -> str:
    return f"set -e\n{KUBECTL} drain {q(node)} --ignore-daemonsets --delete-emptydir-data --timeout={WAIT_READY}\n"


def uncordon_script(node: str) -> str:
    return f"set -e\n{KUBECTL} uncordon {q(node)}\n"


def delete_node_script(node: str) -> str:
    return f"set -e\n{KUBECTL} delete node {q(node)} --ignore-not-found\n"


def upgrade_kubeadm_script(version: Version, source: PackageSource) -> str:
    """The source switched to the target minor (or the bundle used), then kubeadm at exactly `version`."""
    return "set -e\n" + source.switch_script(version) + install_script(str(version), ("kubeadm",), source.bundle)


def upgrade_kubelet_script(version: Version, source: PackageSource) -> str:
    """kubelet and kubectl at the new version (unheld, installed, held), then kubelet restarted."""
    return ("set -e\n" + install_script(str(version), ("kubelet", "kubectl"), source.bundle)
            + "systemctl daemon-reload\nsystemctl restart kubelet\n")


def upgrade_plan_script(version: Version) -> str:
    """kubeadm's own preflight for exactly this version: it fails on an unhealthy cluster or a version
    it cannot reach, and its exit code is all that is read (the plan is logged, not parsed)."""
    return f"set -e\nkubeadm upgrade plan {q(version.tag)}\n"


def upgrade_apply_script(version: Version) -> str:
    return f"set -e\nkubeadm upgrade apply {q(version.tag)} --yes\n"


def upgrade_node_script() -> str:
    return "set -e\nkubeadm upgrade node\n"


def snapshot_script(node: str, stamp: str) -> str:
    """An etcd snapshot through the node's own etcd pod, kept on the node; prints its path."""
    inside = f"/var/lib/etcd/fleetfab-snapshot-{stamp}.db"
    etcdctl = cmd("etcdctl", "--endpoints=https://127.0.0.1:2379", f"--cacert={ETCD_PKI}/ca.crt",
                  f"--cert={ETCD_PKI}/server.crt", f"--key={ETCD_PKI}/server.key", "snapshot", "save", inside)
    return (f"set -e\n{KUBECTL} -n kube-system exec {q('etcd-' + node)} -- {etcdctl} >&2\n"
            f"mkdir -p {SNAPSHOT_DIR}\nchmod 700 {SNAPSHOT_DIR}\nmv {q(inside)} {SNAPSHOT_DIR}/\n"
            f"echo {SNAPSHOT_DIR}/fleetfab-snapshot-{stamp}.db\n")


def certs_script() -> str:
    """JSON where this kubeadm has it (1.30 and later), the tables otherwise."""
    return ("kubeadm certs check-expiration -o json 2>/dev/null || kubeadm certs check-expiration\n")


PAUSED = "/etc/kubernetes/fleetfab-paused"
MANIFESTS = "/etc/kubernetes/manifests"
CONTROL_PLANE_PODS = "kube-apiserver|etcd|kube-controller-manager|kube-scheduler"


def renew_script() -> str:
    """Renew every certificate, then restart this node's static pods: their manifests moved away until
    kubelet has stopped them (crictl lists none), and back, whatever happened meanwhile."""
    return ("set -e\nkubeadm certs renew all\n"
            f"mkdir -p {PAUSED}\nmv {MANIFESTS}/*.yaml {PAUSED}/\n"
            f"trap 'mv {PAUSED}/*.yaml {MANIFESTS}/ 2>/dev/null || true' EXIT\n"
            f"i=0\nwhile crictl ps -q --name {q(CONTROL_PLANE_PODS)} 2>/dev/null | grep -q .; do\n"
            "  i=$((i+1)); [ $i -le 60 ] || { echo 'the control-plane pods did not stop within 2 minutes' >&2; exit 1; }\n"
            "  sleep 2\ndone\n")


def wait_control_plane_script(port: int) -> str:
    """This node's API server ready again (its /readyz includes its etcd): the gate before the next node."""
    url = f"https://127.0.0.1:{port}/readyz"
    return ("set -e\ni=0\n"
            f"until curl -fsk --max-time 5 {q(url)} >/dev/null 2>&1; do\n"
            "  i=$((i+1)); [ $i -le 60 ] || { echo 'the API server did not become ready within 5 minutes' >&2; exit 1; }\n"
            "  sleep 5\ndone\n")


def reset_script() -> str:
    """kubeadm reset, then what reset leaves: CNI and iptables. On a control-plane node reset removes its
    etcd member, reading its registration from the Node object: the Node is deleted only afterwards."""
    return ("set -e\nkubeadm reset --force\nrm -rf /etc/cni/net.d /var/lib/cni\n"
            "for t in filter nat mangle raw; do iptables -t $t -F || true; iptables -t $t -X || true; done\n"
            "if command -v ipvsadm >/dev/null; then ipvsadm --clear; fi\n"
            "ip link delete flannel.1 2>/dev/null || true\nip link delete cni0 2>/dev/null || true\n")


def admin_conf_script() -> str:
    return f"set -e\ncat {ADMIN_CONF}\n"


def point_at(kubeconfig: str, endpoint: str) -> str:
    """The kubeconfig with every cluster's server at the endpoint name."""
    return re.sub(r"(^\s*server:\s*)https://\S+", lambda m: f"{m.group(1)}https://{endpoint}", kubeconfig, flags=re.M)
