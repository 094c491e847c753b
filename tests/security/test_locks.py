"""The host lock: another account on the host can neither hold it, nor forge its holder, nor make its folder.

The lock lived in world-writable /run/lock: `nobody` holding
`flock -x /run/lock/fleetfab.lock` stopped every run, and a holder line it
wrote there was shown as the reason. It now lives in /run/fleetfab, made
0700 root:root by the lock script, which refuses a folder found otherwise.
"""

from __future__ import annotations

import pytest

from tests.faults.conftest import reason
from tests.security.lab_hosts import background, lab_hosts, stop  # noqa: F401  (fixture)

HOST = "worker1"
LOCK_DIR = "/run/fleetfab"
OLD_LOCK, OLD_HOLDER = "/run/lock/fleetfab.lock", "/run/lock/fleetfab.holder"
FORGED = "bootstrap by root@ops.example.com (pid 1) since 2020-01-01T00:00:00Z"


def test_an_account_holding_the_old_lock_with_a_forged_holder_neither_blocks_nor_misleads_drift(lab_hosts):
    lab = lab_hosts
    lab.sh(HOST, f"rm -f {OLD_HOLDER}; runuser -u nobody -- sh -c \"printf '%s\\n' '{FORGED}' > {OLD_HOLDER}\"")
    holder = background(lab, HOST, f"runuser -u nobody -- flock -x {OLD_LOCK} sleep 120")
    try:
        lab.sh(HOST, f"for i in $(seq 50); do flock -n {OLD_LOCK} true || exit 0; sleep 0.1; done; exit 1")
        code, run = lab.fab("-H", HOST, "drift")
        host = run.document()["hosts"][HOST]
        assert "lock" not in reason(host) and FORGED not in run.output, run.output
        assert host["unchanged"] > 0, run.output  # its roles were read
    finally:
        stop(lab, HOST, holder)
        lab.sh(HOST, f"rm -f {OLD_HOLDER}")


PLANTED = {
    "a folder of another account": "install -d -m 0700 -o nobody -g nogroup {dir}",
    "a folder others may write": "install -d -m 0777 {dir}",
    "a link to another account's folder": "install -d -m 0700 -o nobody -g nogroup /tmp/fleetfab-planted && ln -s /tmp/fleetfab-planted {dir}",
}


@pytest.mark.parametrize("planted", PLANTED, ids=list(PLANTED))
def test_a_lock_folder_that_is_not_roots_alone_is_refused_with_what_was_found(lab_hosts, planted):
    lab = lab_hosts
    # Only root can write /run, so no account can make the folder first ...
    assert lab.sh(HOST, f"runuser -u nobody -- mkdir {LOCK_DIR}.x 2>&1 && echo made || echo refused").strip().endswith("refused")
    # ... but one made by something else (a tmpfiles rule, a hand) must not be trusted.
    lab.sh(HOST, f"flock -w 60 {LOCK_DIR}/lock rm -rf {LOCK_DIR} 2>/dev/null || rm -rf {LOCK_DIR}; "
                 f"{PLANTED[planted].format(dir=LOCK_DIR)}")
    try:
        code, run = lab.fab("-H", HOST, "drift")
        host = run.document()["hosts"][HOST]
        assert code == 1 and host["status"] == "failed", run.output
        assert f"refusing to lock in {LOCK_DIR}" in reason(host), run.output
        assert host["unchanged"] == 0, run.output  # nothing was read
        assert lab.sh(HOST, "ls -A /tmp/fleetfab-planted 2>/dev/null; true").strip() == ""
    finally:
        lab.sh(HOST, f"rm -rf {LOCK_DIR} /tmp/fleetfab-planted")
    code, run = lab.fab("-H", HOST, "drift")
    assert "lock" not in reason(run.document()["hosts"][HOST]), run.output
    assert lab.sh(HOST, f"stat -c '%U:%G %a %F' {LOCK_DIR}").strip() == "root:root 700 directory"
