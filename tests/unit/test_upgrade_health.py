"""Each role's health checks judge recorded answers of the real programs (dig, an SMTP dialogue, openssl
s_client, wg show dump, kubectl) strictly, and the checks run where drift runs."""

from __future__ import annotations

import json

from fleetfab.health import SystemRunning, checking
from fleetfab.roles.bind9.health import AnswersZone
from fleetfab.roles.edge.health import ServesHttps
from fleetfab.roles.kubernetes.health import NOT_JOINED, NodeDrained, NodeReady, NodeUncordoned
from fleetfab.roles.mail.health import AcceptsMail
from fleetfab.roles.wireguard.health import FreshHandshakes
from fleetfab.upgrade.procedure import check_failures

DIG = """; <<>> DiG 9.20.30-1~deb13u1-Debian <<>> +norec +time=3 +tries=2 @127.0.0.1 corp.test SOA
;; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 64460
;; flags: qr aa; QUERY: 1, ANSWER: 1, AUTHORITY: 0, ADDITIONAL: 1

;; ANSWER SECTION:
corp.test.\t\t3600\tIN\tSOA\tns1.corp.test. hostmaster.corp.test. 2026120300 3600 600 1209600 300
"""

SMTP = """< 220 mail2.lab.test ESMTP
< 250-mail2.lab.test
< 250-PIPELINING
< 250-STARTTLS
< 250 CHUNKING
< 250 2.1.0 Ok
< 250 2.1.5 Ok
< 250 2.0.0 Ok
< 221 2.0.0 Bye
"""


def test_a_zone_answered_with_authority_is_healthy():
    assert AnswersZone("x", "corp.test").problem(DIG) is None


def test_a_zone_answered_without_authority_or_refused_is_not():
    check = AnswersZone("x", "corp.test")
    assert "without authority" in check.problem(DIG.replace("flags: qr aa;", "flags: qr;"))
    assert "SERVFAIL" in check.problem(DIG.replace("NOERROR", "SERVFAIL"))
    assert "no DNS answer" in check.problem(";; connection timed out; no servers could be reached\n")


def test_port_25_accepting_the_postmaster_is_healthy_and_a_refused_recipient_is_not():
    check = AcceptsMail("x", "postmaster@corp.test")
    assert check.problem(SMTP) is None
    refused = SMTP.replace("< 250 2.1.5 Ok", "< 550 5.1.1 <postmaster@corp.test>: Recipient address rejected")
    assert "did not accept a message" in check.problem(refused)
    assert "did not greet" in check.problem("refused: Connection refused\n")


def test_the_smtp_check_never_sends_data():
    probe = AcceptsMail("x", "postmaster@corp.test").probe()
    assert "DATA" not in probe and "RSET" in probe


def test_an_http_status_over_tls_is_a_served_site_even_when_its_backend_is_down():
    answer = "depth=0 CN = www.example.com\nverify return:1\nHTTP/1.1 503 Service Unavailable\ncontent-length: 107\n"
    assert ServesHttps("x", "www.example.com").problem(answer) is None
    assert "no HTTPS answer" in ServesHttps("x", "www.example.com").problem("connect:errno=111\n")


def dump(now: int, peers: dict[str, int]) -> str:
    rows = [f"KEY{i}=\t(none)\t198.18.0.{i}:51820\t{address}/32\t{seen}\t1148\t1172\toff"
            for i, (address, seen) in enumerate(peers.items())]
    return f"@now {now}\n" + "\n".join(rows) + "\n"


def test_fresh_handshakes_with_every_peer_are_healthy_and_an_old_or_missing_one_is_named():
    check = FreshHandshakes("x", (("ns1", "100.64.0.31"), ("edge1", "100.64.0.61")))
    assert check.problem(dump(1000, {"100.64.0.31": 990, "100.64.0.61": 900})) is None
    found = check.problem(dump(1000, {"100.64.0.31": 100, "100.64.0.61": 0}))
    assert "ns1: last handshake 900 s ago" in found and "edge1: no handshake yet" in found


def test_the_mesh_check_never_reads_the_interfaces_private_key():
    assert "tail -n +2" in FreshHandshakes("x", (("ns1", "100.64.0.31"),)).probe()


def node(ready: str) -> str:
    return json.dumps({"metadata": {"name": "worker1"}, "spec": {},
                       "status": {"conditions": [{"type": "Ready", "status": ready, "reason": "KubeletNotReady"}],
                                  "nodeInfo": {"kubeletVersion": "v1.35.9"}}})


def test_a_ready_node_is_healthy_a_not_ready_one_is_not_and_a_node_in_no_cluster_is_noted():
    check = NodeReady("x", "worker1")
    assert check.problem(node("True")) is None
    assert "NotReady" in check.problem(node("False"))
    assert check.problem(NOT_JOINED) is None and "in no cluster" in check.note(NOT_JOINED)


def test_draining_is_skipped_and_said_where_no_cluster_runs():
    drained = NodeDrained("worker1")
    assert drained.compare("@no-cluster") is None and "no cluster runs" in drained.note("@no-cluster")
    assert drained.compare("") .action == "drain"
    assert NodeUncordoned("worker1").compare("true").action == "uncordon"
    assert NodeUncordoned("worker1").compare("") is None


def test_a_failed_unit_is_named():
    assert SystemRunning().problem("") is None
    assert "dovecot.service" in SystemRunning().problem("dovecot.service loaded failed failed Dovecot IMAP/POP3\n")


class _Role:
    name = "mail"

    def resources(self, ctx):
        return ["state"]

    def health(self, ctx):
        return ["check"]


class _Ctx:
    role = "mail"

    class host:
        roles = ("base", "mail")


def test_a_checking_role_states_its_drift_then_its_health_and_leaves_the_role_itself_alone():
    role = _Role()
    assert checking(role).resources(_Ctx()) == ["state", "check"]
    assert checking(role, drift=False).resources(_Ctx()) == ["check"]
    assert role.resources(_Ctx()) == ["state"]


def test_a_failed_check_run_says_health_and_drift_apart():
    from fleetfab.report.model import ChangeRecord, HostReport
    from fleetfab.resources.base import Change

    report = HostReport("mail2", changes=[ChangeRecord("mail", Change("health: port 25", "unhealthy", "refused")),
                                          ChangeRecord("base", Change("file /etc/x", "update", "content"))])
    assert check_failures(report) == "unhealthy: port 25: refused / drift: base: file /etc/x: content"
