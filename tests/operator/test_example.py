"""examples/operator against the lab: its role and task beside fleetfab's, from the wheel alone.

The steps depend on each other and run in order: what fab lists and
validates, the bootstrap, the application through the edge over HTTPS, a
second bootstrap that changes nothing, drift finding a hand edit, a new
release (its migration once, then a restart), and the operator's own task.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time

from fleetfab.lab.rebuild import unchanged_problem
from tests.infra.acme import pebble_root
from tests.operator.conftest import APP, EDGE, TOUCHED

SITE = "guestbook.apps.lab.test"
HOSTS = ",".join(TOUCHED)
#: seconds the edge may take to find a (re)started backend healthy: checks every 2 s
HEALTHY_WITHIN = 30
#: a file of the guestbook role that the test edits by hand
EDITED = "/etc/systemd/system/guestbook-worker.service"


def trusting_the_lab_ca(lab) -> ssl.SSLContext:
    """A client that trusts only the root of the lab's ACME CA (pebble on vmhost1) and checks names."""
    return ssl.create_default_context(cadata=pebble_root(lab.inventory.hosts["vmhost1"]))


def through_the_edge(lab, method: str, path: str, body: str | None = None) -> tuple[int, str]:
    """A request to the guestbook's site at the edge's address, over verified HTTPS."""
    address = lab.inventory.hosts[EDGE].address
    context = trusting_the_lab_ca(lab)
    connection = http.client.HTTPSConnection(SITE, 443, context=context, timeout=10)
    connection.sock = context.wrap_socket(socket.create_connection((address, 443), timeout=10), server_hostname=SITE)
    headers = {"Host": SITE}
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    return response.status, response.read().decode()


def answer_within(lab, path: str, wanted: str, seconds: float = HEALTHY_WITHIN) -> tuple[int, str]:
    """The site's answer to GET `path` once it holds `wanted` (or the last one, when time runs out)."""
    deadline, answer = time.monotonic() + seconds, (0, "")
    while time.monotonic() < deadline:
        answer = through_the_edge(lab, "GET", path)
        if answer[0] == 200 and wanted in answer[1]:
            break
        time.sleep(1)
    return answer


def changes(report: dict, host: str) -> list[dict]:
    return report["hosts"][host]["changes"]


def test_fab_roles_lists_the_operators_role_beside_the_built_in_ones(project):
    code, output = project.fab("roles")
    assert code == 0, output
    for role in ("guestbook", "edge", "certificates", "wireguard", "base"):
        assert role in output, output
    assert "poll_seconds" in output, output


def test_fab_inventory_validates_the_examples_inventory(project):
    code, output = project.fab("inventory")
    assert code == 0 and "worker1" in output, output


def test_fab_lists_the_operators_task_beside_fleetfabs(project):
    code, output = project.fab("--list")
    assert code == 0 and "guestbook.restart" in output and "bootstrap" in output, output


def test_the_bootstrap_serves_the_application_through_the_edge_with_the_lab_cas_certificate(project, lab):
    code, output = project.fab("-H", HOSTS, "bootstrap")
    assert code == 0, output
    assert answer_within(lab, "/ping", "pong") == (200, "pong 1.0\n")


def test_the_application_runs_as_its_own_account_on_the_mesh_address_only(project, lab):
    pid = lab.sh(APP, "systemctl show -p MainPID --value guestbook").strip()
    assert lab.sh(APP, f"stat -c %U /proc/{pid}").strip() == "guestbook"
    listening = lab.sh(APP, "ss -Hltn 'sport = :8000'").split()
    mesh = lab.sh(APP, "ip -4 -o addr show dev wg0").split()[3].split("/")[0]
    assert f"{mesh}:8000" in listening and "0.0.0.0:8000" not in listening and "*:8000" not in listening


def test_the_applications_code_and_settings_are_roots(lab):
    owners = lab.sh(APP, "stat -c '%U:%G %a' /opt/guestbook/app/web.py /opt/guestbook/venv/bin "
                         "/etc/guestbook/guestbook.json /var/lib/guestbook").splitlines()
    assert owners == ["root:root 644", "root:root 755", "root:guestbook 640", "guestbook:guestbook 750"]


def test_an_entry_posted_through_the_edge_is_done_by_the_worker(project, lab):
    status, text = through_the_edge(lab, "POST", "/entries", "author=ops&message=three+little+words")
    assert status == 201, text
    assert answer_within(lab, "/", "ops: three little words (words: 3)")[0] == 200
    status, text = through_the_edge(lab, "GET", "/health")
    assert status == 200 and '"healthy": true' in text, text


def test_a_second_bootstrap_changes_nothing(project):
    code, output, report = project.report("second", "-H", HOSTS, "bootstrap")
    assert code == 0, output
    assert unchanged_problem(report) is None, output


def test_drift_finds_a_hand_edit_of_the_roles_unit_file(project, lab):
    lab.sh(APP, f"echo 'Environment=EDITED_BY_HAND=1' >> {EDITED}")
    try:
        code, output, report = project.report("drift", "-H", APP, "drift")
        assert code == 2, output
        assert [c["resource"] for c in changes(report, APP)] == [f"file {EDITED}"], output
        # the diff goes from the host to the inventory: the hand-added line is what a bootstrap takes away
        assert "-Environment=EDITED_BY_HAND=1" in changes(report, APP)[0]["diff"].splitlines()
    finally:
        code, output = project.fab("-H", APP, "bootstrap")
        assert code == 0, output
    assert "EDITED_BY_HAND" not in lab.sh(APP, f"cat {EDITED}")
    code, output = project.fab("-H", APP, "drift")
    assert code == 0, output


def test_a_new_release_is_migrated_once_before_it_starts(project, lab):
    project.set_release("1.1")
    code, output, report = project.report("release", "-H", APP, "bootstrap")
    assert code == 0, output
    assert "command migrate the database for release 1.1" in [c["resource"] for c in changes(report, APP)]
    assert answer_within(lab, "/ping", "1.1") == (200, "pong 1.1\n")
    recorded = lab.sh(APP, "runuser -u guestbook -- /opt/guestbook/venv/bin/python -c "
                           "\"import sqlite3; print(sqlite3.connect('/var/lib/guestbook/guestbook.sqlite3')"
                           ".execute(\\\"SELECT value FROM meta WHERE key = 'release'\\\").fetchone()[0])\"")
    assert recorded.strip() == "1.1"
    code, output, report = project.report("after-release", "-H", APP, "bootstrap")
    assert code == 0 and unchanged_problem(report) is None, output


def test_the_operators_task_restarts_the_application_and_waits_for_it(project, lab):
    before = lab.sh(APP, "systemctl show -p MainPID --value guestbook").strip()
    code, output = project.fab("-H", "apps", "guestbook.restart")
    assert code == 0, output
    assert lab.sh(APP, "systemctl show -p MainPID --value guestbook").strip() != before
    assert answer_within(lab, "/ping", "pong")[0] == 200
