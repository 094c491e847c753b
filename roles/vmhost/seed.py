"""The first boot of a guest: a cloud-init NoCloud seed ISO, built on the VM host.

It holds the hostname, the keys fleetfab logs in with, and the guest's static
address (network-config v2, matched by MAC), so the guest answers SSH with a
key at a known address before fleetfab touches it. The probe reads each file
back out of the ISO (isoinfo), so a seed is compared by what it really holds.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from fleetfab.resources import Change, Resource
from fleetfab.shell import q

SEED_FILES = ("user-data", "meta-data", "network-config")


@dataclass(frozen=True)
class SeedIso(Resource):
    path: str
    files: tuple[tuple[str, str], ...]  # (name, content), in SEED_FILES order
    #: from an ops host's copy of the inventory, whose login is not the operator's: not compared
    compared: bool = True

    @property
    def key(self) -> str:
        return f"seed {self.path}"

    def probe(self) -> str:
        if not self.compared:
            return "true"
        p = q(self.path)
        reads = "; ".join(f"isoinfo -R -i {p} -x /{name} | sha256sum" for name, _ in self.files)
        return f"if [ -f {p} ]; then {reads}; else echo '@absent'; fi"

    def note(self, output: str) -> str | None:
        if self.compared:
            return None
        return f"{self.path}: not compared from an ops host (it holds the operator's login key, not the ops host's)"

    def compare(self, output: str) -> Change | None:
        if not self.compared:
            return None
        if "@absent" in output:
            return self.change("create", f"build {self.path} ({', '.join(n for n, _ in self.files)})")
        found = [line.split()[0] for line in output.splitlines() if line.strip()]
        wanted = [hashlib.sha256(content.encode()).hexdigest() for _, content in self.files]
        differ = [name for (name, _), have, want in zip(self.files, found + [""] * len(wanted), wanted) if have != want]
        return self.change("update", f"rebuild: {', '.join(differ)} differ") if differ else None

    def fix(self, change: Change) -> str:
        lines = ["set -e", "work=$(mktemp -d)", "trap 'rm -rf \"$work\"' EXIT"]
        lines += [f"echo {base64.b64encode(content.encode()).decode()} | base64 -d > \"$work\"/{name}"
                  for name, content in self.files]
        names = " ".join(f'"$work"/{name}' for name, _ in self.files)
        lines += [f"genisoimage -quiet -output {q(self.path)}.partial -volid cidata -joliet -rock {names}",
                  f"chmod 0644 {q(self.path)}.partial", f"mv -f {q(self.path)}.partial {q(self.path)}"]
        return "\n".join(lines) + "\n"
