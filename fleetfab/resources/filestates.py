"""Every file of a batch, read by one `tar` instead of two processes a file.

An archive carries what a File compares (type, owner, group, mode, content)
in one consistent record per path, and tar is essential on every Debian and
Ubuntu host. `--no-recursion` keeps a directory from bringing its tree;
`--hard-dereference` makes a second link to one inode carry its content;
`--blocking-factor=1` pads the archive to 512 bytes rather than 10 KiB.
Secret files are never read this way: their content must not leave the host.
"""

from __future__ import annotations

import base64
import binascii
import io
import posixpath
import tarfile

from fleetfab.facts import ProbeOutputError
from fleetfab.shell import cmd


class FileStates:
    name = "files"

    def script(self, keys: list[str]) -> str:
        return f"tar --no-recursion --hard-dereference --absolute-names --blocking-factor=1 -cf - -- {cmd(*keys)} | base64 -w0; echo"

    def answers(self, output: str, keys: list[str]) -> dict[str, str]:
        members = archive_members(output)
        return {key: state_of(members.get(posixpath.normpath(key))) for key in keys}


FILES = FileStates()


def archive_members(output: str) -> dict[str, tuple[tarfile.TarInfo, bytes]]:
    """Each archived path with its content; an archive that is not there is an error.

    tar writes its end-of-archive blocks even when no path exists, so empty
    output means tar never ran, not that every file is absent.
    """
    try:
        data = base64.b64decode(output.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ProbeOutputError(f"the files' archive is not base64: {exc}") from None
    if not data:
        raise ProbeOutputError("no archive of the files came back (is tar installed on the host?)")
    members = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as archive:
            for member in archive:
                content = archive.extractfile(member).read() if member.isreg() else b""
                members[posixpath.normpath(member.name)] = (member, content)
    except tarfile.TarError as exc:
        raise ProbeOutputError(f"the files' archive is damaged: {exc}") from None
    return members


def state_of(found: tuple[tarfile.TarInfo, bytes] | None) -> str:
    """What `File.probe()` prints for this path, byte for byte."""
    if found is None:
        return "absent\n"
    member, content = found
    if member.issym():
        return "link\n"
    if not member.isreg():
        return "other\n"
    owner, group = member.uname or "UNKNOWN", member.gname or "UNKNOWN"
    return f"{owner} {group} {member.mode & 0o7777:o}\n{base64.b64encode(content).decode()}\n"
