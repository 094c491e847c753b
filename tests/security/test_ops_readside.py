"""The ops host's read side, for real: from the ops host, with the drift account's own key.

A request outside the program's vocabulary, and one naming a read-out the
host does not have, are refused and logged on the target host; the scheduled
check, which reads every host through the same program, still finds a hand
edit on another host (a plain file and a secret one, the latter by digest,
the secret itself never leaving its hosts) and is clean again after a
bootstrap.
"""

from __future__ import annotations

import hashlib
import json
import shlex
import time

import pytest

from fleetfab.readside import FORCED_COMMAND
from fleetfab.roles.controller.settings import ACCOUNT, KEY, KNOWN_HOSTS, STATE_DIR, UNIT

#: the host whose reads are asked by hand, and the one edited by hand (not tests/faults' ns2)
TARGET = "ns1"
EDITED = "worker2"
HAND_EDIT = "echo '198.18.0.251 readside-hand-edit' >> /etc/hosts"
#: the bind9 secondary whose copy of the primary's TSIG key is edited by hand
SECONDARY = "ns2"
PRIMARY = "ns1"


def ops_host(lab) -> str:
    (name,) = [h.name for h in lab.inventory.hosts.values() if "controller" in h.roles]
    return name


def as_drift_account(lab, target: str, requests: list) -> list[dict]:
    """The JSON lines the target's read program answers, asked from the ops host with the drift account's key."""
    host = lab.inventory.hosts[target]
    lines = "".join(json.dumps(r) + "\n" for r in requests)
    ssh = ["ssh", "-i", KEY, "-o", "BatchMode=yes", "-o", f"UserKnownHostsFile={KNOWN_HOSTS}",
           "-o", "StrictHostKeyChecking=yes", "-p", str(host.port), f"{ACCOUNT}@{host.address}", FORCED_COMMAND]
    script = f"printf %s {shlex.quote(lines)} | runuser -u {ACCOUNT} -- {shlex.join(ssh)}"
    output = lab.sh(ops_host(lab), script)
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def logged_since(lab, name: str, since: str) -> str:
    return lab.sh(name, f"journalctl -q --no-pager -t fleetfab-read --since {shlex.quote(since)} -o cat || true")


def now_on(lab, name: str) -> str:
    return lab.sh(name, "date '+%Y-%m-%d %H:%M:%S'").strip()


def scheduled_check(lab) -> dict:
    """A check that starts now: one already running (the timer's, or one a bootstrap of the ops host
    started) may have read a host before the change being looked for, and a start would join it."""
    state = f"systemctl show -p ActiveState --value {UNIT}.service"
    lab.sh(ops_host(lab), f"i=0; while [ \"$({state})\" = activating ] && [ $i -lt 300 ]; do sleep 1; i=$((i + 1)); done; "
                          f"systemctl start {UNIT}.service")
    return json.loads(lab.sh(ops_host(lab), f"cat {STATE_DIR}/latest.json"))


def test_a_request_outside_the_vocabulary_is_refused_and_logged_on_the_host(lab):
    since = now_on(lab, TARGET)
    time.sleep(1)
    (answer,) = as_drift_account(lab, TARGET, [{"op": "shell", "command": "id"}])
    assert "not one this program answers" in answer["refused"]
    log = logged_since(lab, TARGET, since)
    assert f"{ACCOUNT}: refused: request 'shell' is not one this program answers" in log


def test_a_read_out_the_host_does_not_have_is_refused_and_logged(lab):
    since = now_on(lab, TARGET)
    time.sleep(1)
    unknown = hashlib.sha256(b"cat /etc/shadow").hexdigest()
    (answer,) = as_drift_account(lab, TARGET, [{"op": "read", "boundary": "FLEETFAB-" + "0" * 24,
                                                 "sections": [["0", unknown]]}])
    assert "is not installed here" in answer["refused"]
    assert f"read-out '{unknown}' is not installed here" in logged_since(lab, TARGET, since)


@pytest.fixture(scope="module")
def hand_edited(lab):
    """One scheduled check after a hand edit of a plain file on one host and a secret file on another."""
    from fleetfab.roles.bind9 import key_file

    secret_file = key_file(lab.inventory.hosts[PRIMARY])
    scheduled_check(lab)
    since = {name: now_on(lab, name) for name in (EDITED, SECONDARY)}
    time.sleep(1)
    lab.sh(EDITED, HAND_EDIT)
    lab.sh(SECONDARY, f"echo '# edited by hand' >> {shlex.quote(secret_file)}")
    report = scheduled_check(lab)
    logs = {name: logged_since(lab, name, since[name]) for name in since}
    secret = lab.sh(PRIMARY, f"sed -n 's/.*secret \"\\(.*\\)\";.*/\\1/p' {shlex.quote(secret_file)}").strip()
    yield {"report": report, "logs": logs, "secret_file": secret_file, "secret": secret}
    for name in (EDITED, SECONDARY):
        code, run = lab.fab("-H", name, "bootstrap")
        assert code == 0, run.output


def test_the_scheduled_check_finds_a_hand_edit_on_another_host(hand_edited):
    host = hand_edited["report"]["hosts"][EDITED]
    assert [c["resource"] for c in host["changes"]] == ["file /etc/hosts"]


def test_the_scheduled_check_read_the_edited_host_through_its_read_program(hand_edited):
    assert "read " in hand_edited["logs"][EDITED] and "fleetfab: release and package versions" in hand_edited["logs"][EDITED]


def test_a_hand_edited_secret_file_is_drift_by_digest(hand_edited):
    changes = hand_edited["report"]["hosts"][SECONDARY]["changes"]
    (change,) = [c for c in changes if c["resource"] == f"file {hand_edited['secret_file']}"]
    assert change["diff"] == "(secret content, not shown)"


def test_no_secret_reaches_the_ops_hosts_report(hand_edited):
    assert len(hand_edited["secret"]) >= 32
    assert hand_edited["secret"] not in json.dumps(hand_edited["report"])


def test_every_other_host_is_checked_without_error(hand_edited):
    hosts = hand_edited["report"]["hosts"]
    failed = {name: host["error"] for name, host in hosts.items() if host["error"]}
    assert failed == {}


def test_after_a_bootstrap_the_scheduled_check_is_clean_again(lab, hand_edited):
    for name in (EDITED, SECONDARY):
        code, run = lab.fab("-H", name, "bootstrap")
        assert code == 0, run.output
    report = scheduled_check(lab)
    assert report["hosts"][EDITED]["changes"] == [] and report["hosts"][SECONDARY]["changes"] == []
