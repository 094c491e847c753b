"""The workload every tool applies: the base role's resources plus the four steps.

The four steps (create a user, write a file, copy a file, run a command
guarded so it is idempotent) are the bench role here, registered only for
the benchmark run; pyinfra's deploy file and Ansible's playbook read the same
values from `workload_data()`, written to a JSON file beside their inventory.
"""

from __future__ import annotations

from pathlib import Path

from fleetfab.resources import Command, File, User
from fleetfab.role import Role

HERE = Path(__file__).resolve().parent
BENCH_USER = "benchuser"
WRITTEN = "/etc/fleetfab-bench.conf"
COPIED_SOURCE = HERE / "files" / "payload.txt"
COPIED = "/etc/fleetfab-bench-payload.txt"
STAMP = "/var/lib/fleetfab-bench.stamp"
STAMP_COMMAND = f"date -u +%FT%TZ > {STAMP}"

#: the lab's admin key, the same for every tool (public; the lab's inventory has it)
ADMIN_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILnEHpDeaDn7yHQoWZQSHaeUrOmDyPmCZstWKVROb185 ops@example.com"
#: the base role's own packages; the bench inventory adds none (no downloads)
PACKAGES = ["openssh-server", "sudo", "systemd-timesyncd"]


def written_content(host: str) -> str:
    return f"# Written by the fleetfab benchmark.\nhost = {host}\nrole = bench\n"


class BenchRole(Role):
    """The four-step workload."""

    name = "bench"
    after = ("base",)

    def resources(self, ctx):
        yield User(BENCH_USER, shell="/bin/bash")
        yield File(WRITTEN, written_content(ctx.host.name))
        yield File(COPIED, COPIED_SOURCE.read_text())
        yield Command("stamp", run=STAMP_COMMAND, creates=STAMP)


def roles() -> dict:
    """The roles of a benchmark run: the real base role and the bench role."""
    from fleetfab.roles.base import Base

    return {"base": Base(), "bench": BenchRole()}


def workload_data(hosts_entries: list[list], time_server: str) -> dict:
    """What pyinfra's deploy and Ansible's playbook need, equal to fleetfab's inventory."""
    return {
        "packages": PACKAGES,
        "hosts_entries": hosts_entries,
        "admins": [{"name": "ops", "keys": [ADMIN_KEY]}],
        "sysctls": {"net.ipv4.ip_forward": 1},
        "time_servers": [time_server],
        "bench_user": BENCH_USER,
        "written": WRITTEN,
        "copied_source": str(COPIED_SOURCE),
        "copied": COPIED,
        "stamp": STAMP,
        "stamp_command": STAMP_COMMAND,
    }
