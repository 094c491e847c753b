"""What a host that accepts the ops key holds: the read program and its read-outs.

The read-outs are one root-only file (`MANIFEST`), written as any File is
(validated, moved into place in a folder only root can write), so the
program never reads a half-written list. Its content is computed when it is
compared, not when the role states it: computing it states every role of
the host again, this one included, whose own probe does not depend on it.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field

from fleetfab.facts import Shared
from fleetfab.readside import MANIFEST, PROGRAM, PROGRAM_DIR, STORE, program_text
from fleetfab.resources.base import Change, Resource, lines
from fleetfab.resources.file import Directory, File
from fleetfab.resources.filestates import FILES

MANIFEST_MODE = "0600"


def host_resources(ctx) -> list:
    return [
        Directory(PROGRAM_DIR, mode="0755"),
        File(PROGRAM, program_text(), mode="0755", validate="/usr/bin/python3 -I -c 'import ast, sys; ast.parse(open(sys.argv[1]).read())' %s"),
        Directory(STORE, mode="0700"),
        ReadOuts(ctx),
    ]


def manifest_text(ctx) -> str:
    """The read-outs the ops copy's drift asks this host for, and the digests of its secret files."""
    from fleetfab.readside.readouts import host_readouts

    readouts, secrets = host_readouts(ctx.inventory, ctx.host.name, ctx._exports, ctx._release)
    document = {"version": 1, "host": ctx.host.name,
                "readouts": {digest: r.as_entry() for digest, r in sorted(readouts.items())},
                "secrets": dict(sorted(secrets.items()))}
    return json.dumps(document, sort_keys=True, indent=1) + "\n"


@dataclass(frozen=True)
class ReadOuts(Resource):
    """The host's installed read-outs. The ops copy checks only that they are there, root's alone:
    it uses them at every read, and a missing one is refused (`CopyIsOlder`)."""

    ctx: object = field(compare=False, repr=False)
    _made: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def key(self) -> str:
        return f"read-outs {MANIFEST}"

    def file(self) -> File:
        if "file" not in self._made:
            self._made["file"] = File(MANIFEST, manifest_text(self.ctx), mode=MANIFEST_MODE,
                                      validate="/usr/bin/python3 -I -c 'import json,sys; json.load(open(sys.argv[1]))' %s")
        return self._made["file"]

    def probe(self) -> str:
        return File(MANIFEST, "", mode=MANIFEST_MODE).probe()

    def shared_probe(self):
        return Shared(FILES, MANIFEST)

    def compare(self, output: str) -> Change | None:
        if self.ctx.inventory.ops_copy:
            return self._metadata(output)
        change = self.file().compare(output)
        if change is None:
            return None
        return self.change(change.action, f"{change.summary}: {self._difference(output)}")

    def _metadata(self, output: str) -> Change | None:
        state = (lines(output) or ["absent"])[0]
        if state == f"root root {MANIFEST_MODE[1:]}":
            return None
        return self.change("update", f"the read-outs are not root's alone ({state})")

    def _difference(self, output: str) -> str:
        """How many read-outs would be added and taken away (the file itself is long and no one's to read)."""
        desired = set(json.loads(self.file().content)["readouts"])
        found = set(installed_readouts(output))
        return f"{len(desired - found)} read-out(s) to install, {len(found - desired)} to remove"

    def fix(self, change: Change) -> str:
        return self.file().fix(change)


def installed_readouts(output: str) -> list[str]:
    """The digests the host's manifest names (its answer is untrusted: anything unreadable names none)."""
    found = lines(output)
    if len(found) < 2:
        return []
    try:
        document = json.loads(base64.b64decode(found[1], validate=True))
        return [d for d in document.get("readouts", {}) if isinstance(d, str)]
    except (binascii.Error, ValueError, AttributeError, UnicodeError):
        return []
