"""Every file of a batch, read by one `tar` instead of two processes a file.

An archive carries what a File compares (type, owner, group, mode, content)
in one consistent record per path, and tar is essential on every Debian and
Ubuntu host. `--no-recursion` keeps a directory from bringing its tree;
`--hard-dereference` makes a second link to one inode carry its content;
`--blocking-factor=1` pads the archive to 512 bytes rather than 10 KiB.
Secret files are never read this way: their content must not leave the host.

The read is bounded before anything is read: `find` learns the sizes first,
and a regular file above MAX_FILE is named (`large SIZE PATH`) instead of
archived; the archive itself is cut at MAX_ARCHIVE on the host. On this side
the archive is the host's word, so no header's size is trusted: contents are
sliced out of the bytes that came, and sparse members (which unpack to their
stated size, whatever came) are refused.
"""

from __future__ import annotations

import base64
import binascii
import io
import posixpath
import tarfile

from fleetfab.errors import byte_size
from fleetfab.facts import ProbeOutputError
from fleetfab.shell import cmd
from fleetfab.text import one_line

#: the largest managed file read back: configuration files are small
MAX_FILE = 1 << 20
#: the most of one batch's archive the host sends (before base64)
MAX_ARCHIVE = 8 << 20
#: what tar is given: each path once, no tree, hard links with their content
TAR = "tar --null --no-recursion --hard-dereference --absolute-names --blocking-factor=1 -cf - -T -"
#: errors a damaged or hostile archive can raise while tarfile reads it
DAMAGED = (tarfile.TarError, ValueError, EOFError, OverflowError, IndexError, KeyError, UnicodeError)


class FileTooLarge(ProbeOutputError):
    """Managed files above MAX_FILE: not read, so not compared; the host's run stops with their names."""

    def __init__(self, found: dict[str, int]):
        self.found = found
        listed = "; ".join(f"{one_line(path)} is {byte_size(size)} ({size} bytes)" for path, size in found.items())
        super().__init__(f"file too large to read: {listed}; fleetfab reads managed files up to {byte_size(MAX_FILE)}")


class FileStates:
    name = "files"

    def script(self, keys: list[str]) -> str:
        paths = cmd(*keys)
        large = f"-type f -size +{MAX_FILE}c"
        return (
            f"find -- {paths} -maxdepth 0 {large} -printf 'large %s %p\\n'\n"
            f"find -- {paths} -maxdepth 0 ! \\( {large} \\) -print0 | {TAR} | head -c {MAX_ARCHIVE} | base64 -w0; echo"
        )

    def answers(self, output: str, keys: list[str]) -> dict[str, str]:
        large, archive = split_listing(output, keys)
        if large:
            raise FileTooLarge(large)
        members = archive_members(archive)
        return {key: state_of(members.get(posixpath.normpath(key))) for key in keys}


FILES = FileStates()


def split_listing(output: str, keys: list[str]) -> tuple[dict[str, int], str]:
    """The files found too large ({path: size}, only paths that were asked for), and the archive's text."""
    *listed, archive = output.rstrip("\n").split("\n")
    wanted = {posixpath.normpath(key): key for key in keys}
    large = {}
    for line in listed:
        tag, _, rest = line.partition(" ")
        size, _, path = rest.partition(" ")
        if tag != "large" or not size.isdigit() or posixpath.normpath(path) not in wanted:
            raise ProbeOutputError(f"unexpected line before the files' archive: {one_line(line[:200])}")
        large[wanted[posixpath.normpath(path)]] = int(size)
    return large, archive


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
    if len(data) >= MAX_ARCHIVE:
        raise ProbeOutputError(f"the files' archive reached {byte_size(MAX_ARCHIVE)} and was cut off there")
    members = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as archive:
            for member in archive:
                members[posixpath.normpath(member.name)] = (member, content_of(member, data))
    except DAMAGED as exc:
        raise ProbeOutputError(f"the files' archive is damaged: {one_line(str(exc))[:200]}") from None
    return members


def content_of(member: tarfile.TarInfo, data: bytes) -> bytes:
    """A regular member's bytes, sliced from what came: never more than the archive holds."""
    if not member.isreg():
        return b""
    if member.issparse() or member.size > MAX_FILE:
        raise tarfile.TarError(f"{member.name}: a member fleetfab did not ask for (sparse, or above {byte_size(MAX_FILE)})")
    content = data[member.offset_data: member.offset_data + member.size]
    if len(content) != member.size:
        raise tarfile.TarError(f"{member.name}: its content is cut short")
    return content


def state_of(found: tuple[tarfile.TarInfo, bytes] | None) -> str:
    """What `File.probe()` prints for this path, byte for byte."""
    if found is None:
        return "absent\n"
    member, content = found
    if member.issym():
        return "link\n"
    if not member.isreg():
        return "other\n"
    return f"{_account(member.uname)} {_account(member.gname)} {member.mode & 0o7777:o}\n{base64.b64encode(content).decode()}\n"


def _account(name: str) -> str:
    """An owner's or group's name as the archive gives it; one that could not be
    a name (empty, or with blanks that would shift the fields) is UNKNOWN."""
    return name if name and name.isprintable() and not any(c.isspace() for c in name) else "UNKNOWN"
