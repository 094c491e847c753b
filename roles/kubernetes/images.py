"""Image archives imported into containerd's k8s.io namespace, so nothing is pulled.

Which images an archive holds is read on the operator's machine from the
archive itself (an OCI layout's index.json or `docker save`'s
manifest.json), so the probe only asks containerd which of those names it
has: an archive already imported costs no copy and no import.
"""

from __future__ import annotations

import json
import tarfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from fleetfab.resources.base import Change, Resource, lines
from fleetfab.shell import cmd

NAMESPACE = "k8s.io"
REMOTE_DIR = "/var/lib/fleetfab/kubernetes/images"
#: OCI annotations that carry an image's full name
NAME_KEYS = ("io.containerd.image.name", "org.opencontainers.image.ref.name")


@cache
def archive_names(path: str, mtime_ns: int) -> tuple[str, ...]:
    """Image names in an archive; ValueError when it names none."""
    with tarfile.open(path) as archive:
        members = {m.name.lstrip("./"): m for m in archive.getmembers()}
        if "index.json" in members:
            index = json.load(archive.extractfile(members["index.json"]))
            names = [m.get("annotations", {}).get(k) for m in index.get("manifests", []) for k in NAME_KEYS]
        elif "manifest.json" in members:
            names = [t for m in json.load(archive.extractfile(members["manifest.json"])) for t in m.get("RepoTags") or []]
        else:
            raise ValueError(f"{path}: neither an OCI layout nor a docker save archive")
    # A bare OCI ref name ("latest") is a tag alone, not a name containerd lists.
    found = tuple(sorted({n for n in names if n and (":" in n or "/" in n)}))
    if not found:
        raise ValueError(f"{path}: the archive names no image")
    return found


def names_in(path: Path) -> tuple[str, ...]:
    return archive_names(str(path), path.stat().st_mtime_ns)


def normalised(name: str) -> str:
    """containerd's full reference for a short docker name (busybox:1 -> docker.io/library/busybox:1)."""
    first = name.split("/", 1)[0]
    if "/" not in name:
        return f"docker.io/library/{name}"
    if "." not in first and ":" not in first and first != "localhost":
        return f"docker.io/{name}"
    return name


@dataclass(frozen=True)
class ImportedImages(Resource):
    """The images of one archive (already copied to `path`) are in containerd."""

    path: str
    names: tuple[str, ...]
    snapshotter: str = "overlayfs"

    @property
    def key(self) -> str:
        return f"images of {self.path.rsplit('/', 1)[-1]} in containerd"

    def probe(self) -> str:
        return f"ctr -n {NAMESPACE} images ls -q 2>/dev/null || echo '@no containerd'"

    def compare(self, output: str) -> Change | None:
        have = set(lines(output))
        missing = [n for n in self.names if normalised(n) not in have and n not in have]
        return self.change("import", f"import {', '.join(missing)}") if missing else None

    def fix(self, change: Change) -> str:
        return "set -e\n" + cmd("ctr", "-n", NAMESPACE, "images", "import", "--snapshotter", self.snapshotter, self.path) + "\n"


def remote_path(archive: Path) -> str:
    return f"{REMOTE_DIR}/{archive.name}"


def archives(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.name.endswith((".tar", ".oci", ".tar.gz")))
