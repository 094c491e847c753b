"""The floor: Fabric's ThreadingGroup running `true` once on every host.

The same SSH settings as every tool: root, the lab key, host keys checked
against the bench's known_hosts (unknown keys refused).

    python -m bench.floor ENDPOINTS_JSON KEY KNOWN_HOSTS

Its last line of output reads `floor: hosts=<n> failed=<k>`.
"""

from __future__ import annotations

import json
import sys

import paramiko
from fabric import Connection, ThreadingGroup
from fabric.exceptions import GroupException


def recorded_keys(known_hosts: str) -> dict[str, dict[str, paramiko.PKey]]:
    """The bench's known_hosts, parsed once for every connection, by host name.

    paramiko's parser compares each line with all those before it, and its
    lookup compares the name with every line: done per connection, the
    floor itself grew with the square of N. fleetfab indexes the same way
    (fleetfab/ssh.py), so both pay the same for their keys.
    """
    by_name: dict[str, dict[str, paramiko.PKey]] = {}
    with open(known_hosts) as lines:
        for line in lines:
            entry = paramiko.hostkeys.HostKeyEntry.from_line(line.strip()) if line.strip() else None
            for name in entry.hostnames if entry else ():
                by_name.setdefault(name, {}).setdefault(entry.key.get_name(), entry.key)
    return by_name


def connection(host: str, port: int, key: str, known: dict[str, dict[str, paramiko.PKey]]) -> Connection:
    c = Connection(host, user="root", port=port, connect_timeout=10, connect_kwargs={"key_filename": key})
    name = host if port == 22 else f"[{host}]:{port}"
    for key_type, host_key in known.get(name, {}).items():
        c.client.get_host_keys().add(name, key_type, host_key)
    c.client.set_missing_host_key_policy(paramiko.RejectPolicy())
    return c


def main(argv: list[str] | None = None) -> int:
    endpoints_file, key, known_hosts = (argv if argv is not None else sys.argv[1:])
    endpoints = json.loads(open(endpoints_file).read())
    known = recorded_keys(known_hosts)
    group = ThreadingGroup.from_connections([connection(h, p, key, known) for h, p in endpoints])
    try:
        results = group.run("true", hide=True, warn=True)
        failed = [f"{c.host}:{c.port}" for c, r in results.items() if r.exited != 0]
    except GroupException as exc:  # some host could not run it at all
        failed = [f"{c.host}:{c.port}: {r}" for c, r in exc.result.failed.items()]
    finally:
        group.close()
    for failure in failed[:20]:
        print(f"floor: failed on {failure}", file=sys.stderr)
    print(f"floor: hosts={len(endpoints)} failed={len(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
