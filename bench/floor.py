"""The floor: Fabric's ThreadingGroup running `true` once on every host.

The same SSH settings as every tool: root, the lab key, host keys checked
against the bench's known_hosts (unknown keys refused).

    python -m bench.floor ENDPOINTS_JSON KEY KNOWN_HOSTS
"""

from __future__ import annotations

import json
import sys

import paramiko
from fabric import Connection, ThreadingGroup


def connection(host: str, port: int, key: str, known_hosts: str) -> Connection:
    c = Connection(host, user="root", port=port, connect_timeout=10, connect_kwargs={"key_filename": key})
    c.client.load_system_host_keys()
    c.client.get_host_keys().load(known_hosts)
    c.client.set_missing_host_key_policy(paramiko.RejectPolicy())
    return c


def main(argv: list[str] | None = None) -> int:
    endpoints_file, key, known_hosts = (argv if argv is not None else sys.argv[1:])
    endpoints = json.loads(open(endpoints_file).read())
    group = ThreadingGroup.from_connections([connection(h, p, key, known_hosts) for h, p in endpoints])
    try:
        results = group.run("true", hide=True, warn=True)
    except Exception as exc:  # GroupException: some host failed
        print(f"floor: {exc}", file=sys.stderr)
        return 1
    finally:
        group.close()
    failed = [c.host for c, r in results.items() if r.exited != 0]
    if failed:
        print(f"floor: `true` failed on {failed}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
