"""Reads from a host are bounded: a terabyte at a managed path fails its host quickly, and no other.

`truncate -s 1T` gives an admin's authorized_keys a size of a terabyte
(sparse: no disk used). The shared file probe streamed it whole, so the
host's drift ran until its read timeout, and a crafted archive could make
the controller allocate what a header claimed. Sizes are now learned first:
the host's run fails at once, naming the file and the limit, and the other
host of the same run is checked as usual.
"""

from __future__ import annotations

import time

from tests.faults.conftest import reason
from tests.security.lab_hosts import lab_hosts  # noqa: F401  (fixture)

HOST, OTHER = "worker1", "worker2"
#: managed by the base role on every host (the lab's admin account)
MANAGED = "/home/ops/.ssh/authorized_keys"
#: the most of a managed file fleetfab reads, as the error says it
LIMIT = "1 MiB"
#: how long the two hosts' drift may take, far below the read timeout
QUICK = 60


def test_a_terabyte_file_at_a_managed_path_fails_its_host_quickly_and_the_other_host_is_still_checked(lab_hosts):
    lab = lab_hosts
    original = lab.sh(HOST, f"base64 -w0 {MANAGED}").strip()
    lab.sh(HOST, f"truncate -s 1T {MANAGED}")
    try:
        started = time.monotonic()
        code, run = lab.fab("-H", f"{HOST},{OTHER}", "drift")
        elapsed = time.monotonic() - started
        hosts = run.document()["hosts"]
        why = reason(hosts[HOST])
        assert hosts[HOST]["status"] == "failed" and code == 1, run.output
        assert MANAGED in why and LIMIT in why and "1 TiB" in why, run.output
        assert any(line.startswith(f"{HOST}: ") and LIMIT in line for line in run.lines), run.output
        assert elapsed < QUICK, f"{elapsed:.0f} s"
        assert hosts[OTHER]["error"] is None and hosts[OTHER]["unchanged"] > 0, run.output
    finally:
        lab.sh(HOST, f"echo {original} | base64 -d > {MANAGED}")
    assert lab.sh(HOST, f"base64 -w0 {MANAGED}").strip() == original
