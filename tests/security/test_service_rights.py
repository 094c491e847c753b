"""Each piece of software has only the rights it needs, seen from a lab host.

A key planted in root's authorized_keys is drift and is removed; sshd reads
no second key file and forwards no agent; OpenDKIM signs only for Postfix
(no TCP port, a socket other accounts cannot reach); HAProxy hands its
backends the client's address, not the one a client claims.
"""

from __future__ import annotations

import os
import ssl
import subprocess
import time
import http.client
import socket

import pytest

from fleetfab.roles.mail import MILTER_SOCKET

HOST = "ns2"
ROOT_KEYS = "/root/.ssh/authorized_keys"
#: a well-formed key nobody holds: what an intruder would leave behind
PLANTED = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHvRBBHBytlwDfwWMbGMEXXE8Cm+MHX3NDAs4CPxPxF9 intruder@example.net"
FORGED = "203.0.113.9"
ECHO_UNIT = "fleetfab-lab-echo"
#: a backend that answers with the X-Forwarded-For headers it was given, one a line
ECHO = """import http.server
class Echo(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = "\\n".join(self.headers.get_all("X-Forwarded-For") or []).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
http.server.HTTPServer(("", {port}), Echo).serve_forever()
"""


def ssh(lab, *args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(["ssh", "-F", str(lab.paths.ssh_config), "-o", "BatchMode=yes", *args],
                          capture_output=True, text=True, timeout=60, **kwargs)


# -- root's keys -------------------------------------------------------------------


@pytest.fixture
def planted_root_key(lab):
    lab.sh(HOST, f"printf '%s\\n' '{PLANTED}' >> {ROOT_KEYS}")
    yield PLANTED
    lab.sh(HOST, f"grep -vF '{PLANTED.split()[1]}' {ROOT_KEYS} > {ROOT_KEYS}.t; cat {ROOT_KEYS}.t > {ROOT_KEYS}; rm -f {ROOT_KEYS}.t")
    lab.wait_for_ssh(HOST)


def test_a_key_planted_in_roots_authorized_keys_is_drift_and_bootstrap_removes_it(lab, planted_root_key):
    code, run = lab.fab("-H", HOST, "drift")
    assert code == 2, run.output
    assert ROOT_KEYS in run.output
    code, run = lab.fab("-H", HOST, "bootstrap")
    assert code == 0, run.output
    assert PLANTED.split()[1] not in lab.sh(HOST, f"cat {ROOT_KEYS}")
    lab.wait_for_ssh(HOST)  # fleetfab's own login key was kept


@pytest.fixture
def second_key_file(lab, tmp_path):
    """A fresh key pair whose public half is put in root's authorized_keys2 on the host."""
    key = tmp_path / "intruder"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    lab.sh(HOST, f"printf '%s\\n' '{key.with_suffix('.pub').read_text().strip()}' > /root/.ssh/authorized_keys2")
    yield key
    lab.sh(HOST, "rm -f /root/.ssh/authorized_keys2")


def test_sshd_reads_no_second_authorized_keys_file(lab, second_key_file):
    # That key alone: not the lab's ssh_config, which offers the lab's key too.
    login = subprocess.run(["ssh", "-F", "/dev/null", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-i", str(second_key_file),
                            "-o", f"UserKnownHostsFile={lab.inventory.ssh.known_hosts}", "-o", "StrictHostKeyChecking=yes",
                            f"root@{lab.inventory.hosts[HOST].address}", "true"], capture_output=True, text=True, timeout=60)
    assert login.returncode != 0 and "Permission denied" in login.stderr


def test_an_agent_is_not_forwarded(lab):
    agent = subprocess.run(["ssh-agent", "-s"], capture_output=True, text=True, check=True).stdout
    env = dict(os.environ)
    for line in agent.splitlines():
        name, _, rest = line.partition("=")
        if name in ("SSH_AUTH_SOCK", "SSH_AGENT_PID"):
            env[name] = rest.split(";")[0]
    try:
        seen = ssh(lab, "-A", HOST, "echo \"agent:${SSH_AUTH_SOCK:-none}\"", env=env)
    finally:
        subprocess.run(["ssh-agent", "-k"], env=env, capture_output=True)
    assert seen.returncode == 0, seen.stderr
    assert seen.stdout.strip() == "agent:none"


# -- OpenDKIM ----------------------------------------------------------------------


def test_opendkim_listens_on_its_socket_and_on_no_tcp_port(lab):
    assert lab.sh("mail1", "ss -Hltn 'sport = :8891'").strip() == ""
    assert f" {MILTER_SOCKET} " in lab.sh("mail1", "ss -Hlx")


def connects_as(lab, user: str, group: str) -> str:
    """What `user`, with its own group alone (as Postfix's daemons run), gets from the signer, by socket and by TCP."""
    probe = ("import socket\n"
             "for family, where in ((socket.AF_UNIX, %r), (socket.AF_INET, ('127.0.0.1', 8891))):\n"
             "    s = socket.socket(family)\n"
             "    try:\n"
             "        s.connect(where); print('connected')\n"
             "    except OSError as e:\n"
             "        print(type(e).__name__)\n" % MILTER_SOCKET)
    return lab.sh("mail1", f"setpriv --reuid {user} --regid {group} --clear-groups python3 -c \"$(cat <<'EOF'\n{probe}EOF\n)\"")


def test_another_local_account_cannot_reach_the_signer_but_postfix_can(lab):
    assert connects_as(lab, "nobody", "nogroup").split() == ["PermissionError", "ConnectionRefusedError"]
    assert connects_as(lab, "postfix", "postfix").split()[0] == "connected"


# -- HAProxy -----------------------------------------------------------------------


@pytest.fixture
def echo_backend(lab):
    """The edge's first site's first backend, answering with the X-Forwarded-For it was given."""
    edge = lab.inventory.hosts["edge1"]
    name, site = sorted(edge.settings("edge")["sites"].items())[0]
    backend, _, port = site["backends"][0].rpartition(":")
    names = site.get("names") or edge.settings("certificates")["certificates"][site["certificate"]]["names"]
    lab.sh(backend, f"systemctl stop {ECHO_UNIT} 2>/dev/null; systemctl reset-failed {ECHO_UNIT} 2>/dev/null; "
                    f"systemd-run --unit {ECHO_UNIT} python3 -c '{ECHO.format(port=port)}'")
    yield edge.address, next(n for n in names if not n.startswith("*."))
    lab.sh(backend, f"systemctl stop {ECHO_UNIT}")


def forwarded_for(address: str, name: str, claimed: str) -> str:
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    connection = http.client.HTTPSConnection(address, 443, context=context, timeout=10)
    connection.request("GET", "/", headers={"Host": name, "X-Forwarded-For": claimed})
    response = connection.getresponse()
    body = response.read().decode()
    return body if response.status == 200 else f"status {response.status}"


def test_the_backend_sees_the_clients_address_not_one_the_client_claims(lab, echo_backend):
    address, name = echo_backend
    deadline, seen = time.monotonic() + 30, ""
    while time.monotonic() < deadline:
        seen = forwarded_for(address, name, FORGED)
        if not seen.startswith("status"):
            break
        time.sleep(1)
    client = socket.create_connection((address, 443), timeout=10)
    own = client.getsockname()[0]
    client.close()
    assert seen == own
