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
from roles.kubernetes.kubeadmconfig import (HASH_PLACEHOLDER, INIT_FILE, JOIN_FILE, KEY_PLACEHOLDER,
                                            TOKEN_PLACEHOLDER)
from roles.kubernetes.packages import install_script
from roles.kubernetes.versions import Version

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


def expiring(certificates: list[Certificate], now: datetime.datetime, margin_days: int) -> list[Certificate]:
    """Certificates missing or expiring within the margin (an externally managed one is its owner's)."""
    return [c for c in certificates if not c.externally_managed
            and (c.missing or c.days_left(now) < margin_days)]


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


# -- upgrade plan ----------------------------------------------------------------------


@dataclass(frozen=True)
class UpgradePlan:
    cluster: str
    target: str
    #: (component, current, target) for each row of the plan's tables
    components: tuple[tuple[str, str, str], ...]


def parse_upgrade_plan(text: str) -> UpgradePlan:
    """`kubeadm upgrade plan` (text), or its `-o json` (kind UpgradePlan)."""
    if text.lstrip().startswith("{"):
        return _plan_json(json.loads(text))
    cluster = re.search(r"\[upgrade/versions\] Cluster version: (\S+)", text)
    target = re.search(r"\[upgrade/versions\] Target version: (\S+)", text)
    # COMPONENT [NODE] CURRENT TARGET. Older kubeadm had no NODE column: 1.30 named the node in the
    # component ("kubelet (node1)"), before that kubelets were counted ("2 x v1.28.5").
    rows = re.findall(r"^([A-Za-z][\w-]*(?: \([^)]+\))?)\s+(?:[A-Za-z][\w.-]*\s+)?(?:\d+ x )?(v?\d+\.\d+\.\d+\S*)\s+(v?\d+\.\d+\.\d+\S*)\s*$",
                      text, re.M)
    if not cluster or not rows:
        raise ParseError("upgrade plan printed no cluster version or no component table")
    return UpgradePlan(cluster.group(1), target.group(1) if target else rows[-1][2], tuple(rows))


def _plan_json(document: dict) -> UpgradePlan:
    rows = tuple((c["name"], c.get("currentVersion", ""), c.get("newVersion", "")) for c in document.get("components") or [])
    if not rows:
        raise ParseError("upgrade plan's JSON lists no components")
    apiserver = next((r for r in rows if r[0] == "kube-apiserver"), rows[0])
    return UpgradePlan(apiserver[1], apiserver[2], rows)


# -- commands --------------------------------------------------------------------------


def init_script() -> str:
    """kubeadm init, once: a host with admin.conf was initialised already and is left alone."""
    return (f"set -e\nif [ -e {ADMIN_CONF} ]; then echo 'already initialised ({ADMIN_CONF} exists)'; exit 0; fi\n"
            f"kubeadm init --config {q(INIT_FILE)} --upload-certs\n")


def print_join_script() -> str:
    return f"set -e\nkubeadm token create --ttl {TOKEN_TTL} --print-join-command --kubeconfig {ADMIN_CONF}\n"


def upload_certs_script() -> str:
    """A fresh certificate key (kubeadm deletes the uploaded certificates after two hours)."""
    return "set -e\nkubeadm init phase upload-certs --upload-certs\n"


def join_script(join: JoinCommand) -> str:
    """Fill the node's join.yaml placeholders in a private copy, join, and remove the copy."""
    edits = [f"s|{TOKEN_PLACEHOLDER}|{join.token}|", f"s|{HASH_PLACEHOLDER}|{join.ca_hashes[0]}|"]
    if join.certificate_key:
        edits.append(f"s|{KEY_PLACEHOLDER}|{join.certificate_key}|")
    sed = " ".join(f"-e {q(e)}" for e in edits)
    return (f"set -e\nif [ -e {KUBELET_CONF} ]; then echo 'already joined ({KUBELET_CONF} exists)'; exit 0; fi\n"
            "umask 077\nprivate=$(mktemp /etc/fleetfab/kubernetes/.join.XXXXXX)\ntrap 'rm -f \"$private\"' EXIT\n"
            f"sed {sed} {q(JOIN_FILE)} > \"$private\"\nkubeadm join --config \"$private\"\n")


def state_script() -> str:
    """What the planner needs of one node, one `key value` a line."""
    return (f"echo admin_conf $([ -e {ADMIN_CONF} ] && echo yes || echo no)\n"
            f"echo kubelet_conf $([ -e {KUBELET_CONF} ] && echo yes || echo no)\n"
            "echo kubeadm $(kubeadm version -o short 2>/dev/null || echo none)\n"
            "echo kubelet $(dpkg-query -W -f='${Version}' kubelet 2>/dev/null || echo none)\n")


def parse_state(text: str) -> dict[str, str]:
    return dict(line.split(" ", 1) for line in text.splitlines() if " " in line)


def nodes_script() -> str:
    return f"set -e\n{KUBECTL} get nodes -o json\n"


def wait_ready_script(node: str) -> str:
    return f"set -e\n{KUBECTL} wait --for=condition=Ready {q('node/' + node)} --timeout={WAIT_READY}\n"


def drain_script(node: str) -> str:
    return f"set -e\n{KUBECTL} drain {q(node)} --ignore-daemonsets --delete-emptydir-data --timeout={WAIT_READY}\n"


def uncordon_script(node: str) -> str:
    return f"set -e\n{KUBECTL} uncordon {q(node)}\n"


def delete_node_script(node: str) -> str:
    return f"set -e\n{KUBECTL} delete node {q(node)} --ignore-not-found\n"


def upgrade_kubeadm_script(version: Version) -> str:
    return "set -e\n" + install_script(str(version), ("kubeadm",), None)


def upgrade_kubelet_script(version: Version) -> str:
    """kubelet and kubectl at the new version (unheld, installed, held), then kubelet restarted."""
    return ("set -e\n" + install_script(str(version), ("kubelet", "kubectl"), None)
            + "systemctl daemon-reload\nsystemctl restart kubelet\n")


def upgrade_plan_script(version: Version) -> str:
    """The plan for exactly this version (naming it skips kubeadm's look-up of the latest release)."""
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


def renew_script() -> str:
    """Renew every certificate, then restart the static pods by moving their manifests away and back."""
    return ("set -e\nkubeadm certs renew all\nmkdir -p /etc/kubernetes/fleetfab-paused\n"
            "mv /etc/kubernetes/manifests/*.yaml /etc/kubernetes/fleetfab-paused/\nsleep 20\n"
            "mv /etc/kubernetes/fleetfab-paused/*.yaml /etc/kubernetes/manifests/\n")


def reset_script() -> str:
    """kubeadm reset (a control-plane node leaves etcd with it), then what reset leaves: CNI and iptables."""
    return ("set -e\nkubeadm reset --force\nrm -rf /etc/cni/net.d /var/lib/cni\n"
            "for t in filter nat mangle raw; do iptables -t $t -F || true; iptables -t $t -X || true; done\n"
            "if command -v ipvsadm >/dev/null; then ipvsadm --clear; fi\n"
            "ip link delete flannel.1 2>/dev/null || true\nip link delete cni0 2>/dev/null || true\n")


def admin_conf_script() -> str:
    return f"set -e\ncat {ADMIN_CONF}\n"


def point_at(kubeconfig: str, endpoint: str) -> str:
    """The kubeconfig with every cluster's server at the endpoint name."""
    return re.sub(r"(^\s*server:\s*)https://\S+", lambda m: f"{m.group(1)}https://{endpoint}", kubeconfig, flags=re.M)
