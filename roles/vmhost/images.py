"""Base images on a VM host: read-only files guests' disks are qcow2 overlays on.

An image comes from a URL (downloaded once by the VM host and checked against
its SHA-256) or from a file on the operator's machine (copied over SSH). Its
SHA-256 is recorded beside it, so a drift reads a line instead of hashing
gigabytes. Its owner is libvirt's to change (it gives a running guest's
images to QEMU's user and takes them back): only content and mode are checked. A base image that a guest's disk is built on is never replaced:
a new version of an image is a new name in the inventory.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fleetfab.resources import Change, Copied, Resource
from fleetfab.shell import q

SUFFIX = {"file": "qcow2", "kernel": "vmlinuz", "initrd": "initrd"}


def image_path(folder: str, name: str, part: str = "file") -> str:
    return f"{folder}/{name}.{SUFFIX[part]}"


def in_use(path: str, disks_folder: str) -> str:
    """True (a shell condition) when a guest disk in `disks_folder` is backed by `path`."""
    return (f"for disk in {q(disks_folder)}/*.qcow2; do [ -e \"$disk\" ] && "
            f"qemu-img info -U \"$disk\" 2>/dev/null | grep -qxF {q('backing file: ' + path)} && exit 0; done; exit 1")


def local(inventory, value: str) -> str:
    return str((Path(inventory.path).parent / value).expanduser().resolve())


def image_resources(inventory, name: str, image: dict, folder: str, disks: str) -> list[Resource]:
    path = image_path(folder, name)
    guard = f"( {in_use(path, disks)} )"
    if image.get("url"):
        found = [Downloaded(path, image["url"], image["sha256"])]
    else:
        found = [Copied(path, local(inventory, image["file"]), mode="0444", recorded=True, keep_if=guard, any_owner=True)]
    for part in ("kernel", "initrd"):
        if image.get(part):
            found.append(Copied(image_path(folder, name, part), local(inventory, image[part]), mode="0444", any_owner=True))
    return found


@dataclass(frozen=True)
class Downloaded(Resource):
    """A file the host downloads itself, installed only if its SHA-256 is the one declared."""

    path: str
    url: str
    sha256: str

    @property
    def key(self) -> str:
        return f"file {self.path}"

    def probe(self) -> str:
        return f"cat {q(self.path + '.sha256')} 2>/dev/null || echo '@absent'"

    def compare(self, output: str) -> Change | None:
        found = output.strip()
        if found == self.sha256:
            return None
        action = "create" if found == "@absent" else "update"
        return self.change(action, f"download {self.url.rsplit('/', 1)[-1]} (sha256 {self.sha256[:12]})")

    def fix(self, change: Change) -> str:
        p, partial = q(self.path), q(self.path + ".partial")
        return "\n".join([
            "set -e",
            f"mkdir -p {q(str(Path(self.path).parent))}",
            f"curl -fsSL --retry 3 -o {partial} {q(self.url)}",
            f"if ! echo {q(self.sha256 + '  ' + self.path + '.partial')} | sha256sum -c --status -; then",
            f"  rm -f {partial}; echo {q(f'{self.url} does not have the declared SHA-256; nothing was installed')} >&2; exit 1",
            "fi",
            f"chmod 0444 {partial}", f"mv -f {partial} {p}", f"echo {self.sha256} > {q(self.path + '.sha256')}",
        ]) + "\n"
