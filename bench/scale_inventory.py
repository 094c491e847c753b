"""What the tools read at one N: hosts on the endpoints, their scratch folders, known_hosts.

Pure, apart from writing the files: host i of every N is the same endpoint
and the same scratch folder, so a larger N is a smaller one plus more hosts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import yaml

from bench import fleet
from bench.endpoints import ADDRESS
from bench.scale_role import ROLE


def host_names(count: int) -> list[str]:
    width = max(3, len(str(count)))
    return [f"ep{i + 1:0{width}d}" for i in range(count)]


def fleetfab_inventory(names: list[str], ports: list[int], scratch: Path, key: Path, known_hosts: Path, parallel: int) -> dict:
    """The scratch role on every endpoint, each host with its own folder."""
    return {
        "ssh": {"user": "root", "identity": str(key), "known_hosts": str(known_hosts), "trust_on_first_use": False},
        "run": {"parallel": parallel},
        "groups": {"scale": {"roles": [ROLE]}},
        "hosts": {
            name: {"address": ADDRESS, "port": port, "groups": ["scale"], "vars": {ROLE: {"root": str(scratch / name)}}}
            for name, port in zip(names, ports)
        },
    }


def shares(items: list, count: int) -> list[list]:
    """`items` dealt into `count` shares of near-equal size (one controller process each)."""
    return [items[i::count] for i in range(count) if items[i::count]]


@dataclass(frozen=True)
class ScaleFiles:
    """The generated files of one N."""

    folder: Path

    @property
    def known_hosts(self) -> Path:
        return self.folder / "known_hosts"

    @property
    def endpoints(self) -> Path:
        return self.folder / "endpoints.json"

    @property
    def pyinfra_inventory(self) -> Path:
        return self.folder / "pyinfra_inventory.py"

    def fleetfab_inventory(self, share: int = 0, of: int = 1) -> Path:
        return self.folder / ("fleetfab.yml" if of == 1 else f"fleetfab-{share + 1}-of-{of}.yml")

    @property
    def reports(self) -> Path:
        return self.folder / "reports"

    @property
    def logs(self) -> Path:
        return self.folder / "logs"


def write_files(files: ScaleFiles, ports: list[int], host_key: str, key: Path, scratch: Path,
                parallel: int, processes: tuple[int, ...] = (1,)) -> list[str]:
    """Every tool's inventory for these ports, the known_hosts and the floor's endpoints; the host names."""
    files.folder.mkdir(parents=True, exist_ok=True)
    names = host_names(len(ports))
    endpoints = [fleet.Endpoint(ADDRESS, p) for p in ports]
    files.known_hosts.write_text(fleet.known_hosts_text(endpoints, [[host_key]] * len(ports)))
    files.endpoints.write_text(json.dumps([[e.host, e.port] for e in endpoints]))
    machines = [fleet.Machine(name, ADDRESS, i) for i, name in enumerate(names)]
    ssh = fleet.SshFiles(key, files.known_hosts)
    files.pyinfra_inventory.write_text(fleet.pyinfra_inventory(machines, endpoints, ssh))
    pairs = list(zip(names, ports))
    for count in processes:
        for i, share in enumerate(shares(pairs, count)):
            document = fleetfab_inventory([n for n, _ in share], [p for _, p in share], scratch, key, files.known_hosts, parallel)
            files.fleetfab_inventory(i, count).write_text(yaml.safe_dump(document, sort_keys=False))
    return names
