"""An OCI image archive made from one static binary, with no registry and no image builder.

An air-gapped node imports images from archives; to prove that path where
no image registry is reachable, the lab needs an image made here. This
writes the OCI image layout (oci-layout, index.json, the blobs) as a tar
that `ctr images import` reads. Every timestamp and owner is fixed, so the
same binary always gives the same archive, byte for byte: a bundle does not
change between runs unless its binary did.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

MANIFEST = "application/vnd.oci.image.manifest.v1+json"
CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER = "application/vnd.oci.image.layer.v1.tar"


def _add(archive: tarfile.TarFile, name: str, data: bytes | None = None, mode: int = 0o644, link: str | None = None,
         directory: bool = False) -> None:
    info = tarfile.TarInfo(name)
    info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "root", "root"
    info.mode = 0o755 if directory else mode
    if directory:
        info.type = tarfile.DIRTYPE
    elif link is not None:
        info.type, info.linkname = tarfile.SYMTYPE, link
    else:
        info.size = len(data or b"")
    archive.addfile(info, io.BytesIO(data) if data is not None else None)


def _tar(build) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        build(archive)
    return buffer.getvalue()


def layer(binary: bytes, applets: tuple[str, ...]) -> bytes:
    """/bin/busybox and a symlink to it for each applet; /tmp for the commands' scratch."""
    def build(archive):
        for folder in ("bin", "tmp", "etc"):
            _add(archive, folder, directory=True)
        _add(archive, "bin/busybox", binary, mode=0o755)
        for applet in applets:
            _add(archive, f"bin/{applet}", link="busybox")
    return _tar(build)


def _blob(data: bytes) -> tuple[str, bytes]:
    return "sha256:" + hashlib.sha256(data).hexdigest(), data


def image_archive(binary: bytes, name: str, applets=("sh", "echo", "cat", "ls", "sleep", "hostname", "uname"),
                  architecture: str = "amd64") -> bytes:
    """The archive's bytes: one image called `name` (registry/repository:tag)."""
    layer_digest, layer_data = _blob(layer(binary, tuple(applets)))
    config = {"architecture": architecture, "os": "linux", "config": {"Cmd": ["/bin/sh"], "Env": ["PATH=/bin"]},
              "rootfs": {"type": "layers", "diff_ids": [layer_digest]}}
    config_digest, config_data = _blob(json.dumps(config, sort_keys=True).encode())
    manifest = {"schemaVersion": 2, "mediaType": MANIFEST,
                "config": {"mediaType": CONFIG, "digest": config_digest, "size": len(config_data)},
                "layers": [{"mediaType": LAYER, "digest": layer_digest, "size": len(layer_data)}]}
    manifest_digest, manifest_data = _blob(json.dumps(manifest, sort_keys=True).encode())
    index = {"schemaVersion": 2, "manifests": [{
        "mediaType": MANIFEST, "digest": manifest_digest, "size": len(manifest_data),
        "platform": {"architecture": architecture, "os": "linux"},
        "annotations": {"io.containerd.image.name": name, "org.opencontainers.image.ref.name": name.rsplit(":", 1)[-1]}}]}

    def build(archive):
        _add(archive, "oci-layout", json.dumps({"imageLayoutVersion": "1.0.0"}).encode())
        _add(archive, "index.json", json.dumps(index, sort_keys=True).encode())
        for digest, data in ((layer_digest, layer_data), (config_digest, config_data), (manifest_digest, manifest_data)):
            _add(archive, f"blobs/sha256/{digest.split(':', 1)[1]}", data)
    return _tar(build)


def write_image_archive(binary: Path, name: str, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(image_archive(binary.read_bytes(), name))
    return target
