"""Where a fleetfab drift's time goes, per host: connect, the lock with the batched read.

Uses the engine's own pieces (fleetfab.ssh.connect, Remote, HostSession, the
probe batch of the base and bench roles) on every host of a bench inventory
at once, as drift does, and once more on one host alone (no contention):

    python -m bench.breakdown INVENTORY
"""

from __future__ import annotations

import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from bench.workload import roles
from fleetfab.facts import batch_script, end_line, new_boundary, probe_of
from fleetfab.inventory import load_inventory
from fleetfab.session import HostSession
from fleetfab.shell import q
from fleetfab.redact import Redactor
from fleetfab.remote import Remote
from fleetfab.role import RoleContext
from fleetfab.ssh import connect


def probes_of(inventory, host, bench_roles) -> list[str]:
    out = []
    for name in host.roles:
        out += [probe_of(r) for r in bench_roles[name].resources(RoleContext(inventory, host, name))]
    return out


def one_host(inventory, host, bench_roles) -> dict:
    t0 = time.perf_counter()
    connection = connect(host, inventory.ssh)
    t1 = time.perf_counter()
    remote = Remote(host.name, connection, Redactor(), sudo=False)
    session = HostSession(remote, exclusive=False, purpose="breakdown")
    session.request()
    probes = probes_of(inventory, host, bench_roles)
    boundary = new_boundary()
    script = batch_script(probes, boundary)
    t2 = time.perf_counter()
    session.read(script, end_line(boundary), "read")
    t3 = time.perf_counter()
    session.read(f"echo {q(end_line(boundary))}\n", end_line(boundary), "read")
    t4 = time.perf_counter()
    remote.check("true\n", "true", "breakdown")
    t5 = time.perf_counter()
    session.release()
    remote.close()
    return {"connect": t1 - t0, "plan (local)": t2 - t1, "lock and batched read": t3 - t2,
            "one more read in the session": t4 - t3, "a new exec channel (`true`)": t5 - t4,
            "total": time.perf_counter() - t0}


def summary(rows: list[dict]) -> str:
    keys = rows[0].keys()
    return "\n".join(
        f"  {k:24s} median {statistics.median(r[k] for r in rows):.3f} s  max {max(r[k] for r in rows):.3f} s" for k in keys
    )


def main(argv=None) -> int:
    path = (argv or sys.argv[1:])[0]
    bench_roles = roles()
    inventory = load_inventory(path, roles=bench_roles)
    hosts = list(inventory.hosts.values())
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(hosts)) as pool:
        rows = list(pool.map(lambda h: one_host(inventory, h, bench_roles), hosts))
    print(f"all {len(hosts)} hosts at once: {time.perf_counter() - started:.3f} s wall")
    print(summary(rows))
    alone = [one_host(inventory, hosts[0], bench_roles) for _ in range(3)]
    print(f"one host alone ({hosts[0].name}, 3 times):")
    print(summary(alone))
    return 0


if __name__ == "__main__":
    sys.exit(main())
