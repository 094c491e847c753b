"""The lab's own SSH key: made once, used by Vagrant, fab and testinfra."""

from __future__ import annotations

from pathlib import Path

from fleetfab.lab.proc import run


def ensure_key(path: Path) -> Path:
    """Generate an ed25519 key at `path` unless one is there; return the public key's path."""
    pub = path.with_name(path.name + ".pub")
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "fleetfab-lab", "-f", str(path)], quiet=True)
    if not pub.exists():
        pub.write_text(run(["ssh-keygen", "-y", "-f", str(path)], quiet=True).stdout)
    return pub
