"""Resources only DNS needs: zone files with their serial, the safety guard,
and a secondary's agreement with its primary.

They follow the engine's protocol: one probe each (batched with the role's
others into one SSH round trip), a compare that decides from its output
alone, and a fix.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date

from fleetfab.resources import Change, File, Resource
from fleetfab.shell import q
from fleetfab.roles.bind9.safety import judge
from fleetfab.roles.bind9.serial import next_serial
from fleetfab.roles.bind9.zonedata import ZoneContent
from fleetfab.roles.bind9.zonefile import render_zone, same_content, serial_of, records_in

RELOAD = "reload named"
RETRANSFER = "retransfer zones"


def served_serial_probe(zone: str) -> str:
    """Prints the serial named is serving for `zone`, or nothing."""
    return f"rndc zonestatus {q(zone)} 2>/dev/null | sed -n 's/^serial: //p'"


def _int(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isdigit() else None


@dataclass(frozen=True)
class ZoneFile(Resource):
    """A primary's zone file, whose serial grows only when its content changes.

    The probe reads the file and the serial named serves, so one look tells
    a hand edit, a zone named has not loaded, and the highest serial in use.
    """

    zone: ZoneContent
    path: str
    today: date
    owner: str = "root"
    group: str = "bind"
    mode: str = "0644"

    @property
    def key(self) -> str:
        return f"zone {self.zone.name}"

    def probe(self) -> str:
        p = q(self.path)
        return (f"if [ -f {p} ]; then stat -c '%U %G %a' {p}; base64 -w0 < {p}; echo; else echo absent; echo; fi\n"
                + served_serial_probe(self.zone.name))

    def compare(self, output: str) -> Change | None:
        state, encoded, served = (output.splitlines() + ["", "", ""])[:3]
        served = _int(served)
        if state.strip() in ("", "absent"):
            return self._write(None, next_serial(served, self.today), "create", "new zone")
        old = base64.b64decode(encoded).decode(errors="replace")
        written = serial_of(old)
        if not same_content(old, self.zone):
            serial = next_serial(_highest(written, served), self.today)
            return self._write(old, serial, "update", f"content changed: serial {written} -> {serial}")
        if served is not None and written is not None and served > written:
            serial = next_serial(served, self.today)
            return self._write(old, serial, "update", f"named serves serial {served}, newer than the file's {written}: serial -> {serial}")
        if served != written:
            what = "does not serve the zone" if served is None else f"serves serial {served}"
            return self.change("reload", f"named {what}; the file has serial {written}: reload")
        if state.split() != [self.owner, self.group, self.mode.lstrip("0")]:
            return self.change("metadata", f"{state.strip()} -> {self.owner}:{self.group} {self.mode}")
        return None

    def _write(self, old: str | None, serial: int, action: str, summary: str) -> Change:
        new = render_zone(self.zone, serial)
        diff = self._file(new)._diff(old)
        return self.change(action, summary, diff, data=(new,))

    def _file(self, content: str) -> File:
        return File(self.path, content, owner=self.owner, group=self.group, mode=self.mode,
                    validate=f"named-checkzone {q(self.zone.name)} %s")

    def fix(self, change: Change) -> str:
        if change.action == "reload":
            return "true\n"  # the notified handler reloads, once, after every file is in place
        if change.action == "metadata":
            return self._file("").fix(change)
        return self._file(change.data[0]).fix(Change(change.resource, "update", change.summary))


def _highest(*serials: int | None) -> int | None:
    known = [s for s in serials if s is not None]
    return max(known) if known else None


@dataclass(frozen=True)
class ZoneGuard(Resource):
    """Refuses the role's plan before anything is applied if a zone would be gutted.

    It comes first among the role's resources, so a refusal stops the host
    before any file of the role changes.
    """

    #: (zone name, path of its file, identities of its desired records)
    zones: tuple[tuple[str, str, frozenset], ...]
    force: bool = False

    @property
    def key(self) -> str:
        return "zone safety"

    def probe(self) -> str:
        return "\n".join(f"base64 -w0 < {q(path)} 2>/dev/null; echo" for _, path, _ in self.zones)

    def compare(self, output: str) -> Change | None:
        if self.force:
            return None
        found = output.splitlines() + [""] * len(self.zones)
        verdicts = []
        for (name, _, desired), encoded in zip(self.zones, found):
            old = records_in(base64.b64decode(encoded.strip()).decode(errors="replace")) if encoded.strip() else set()
            verdict = judge(name, old, set(desired))
            if verdict:
                verdicts.append(verdict.message)
        return self.change("refuse", "; ".join(verdicts), data=tuple(verdicts)) if verdicts else None

    def fix(self, change: Change) -> str:
        return "".join(f"echo {q(message)} >&2\n" for message in change.data) + "exit 3\n"


@dataclass(frozen=True)
class SecondarySync(Resource):
    """A secondary serving the serial its primary serves; anything else is drift."""

    zone: str
    primary: str
    expected: int | None

    @property
    def key(self) -> str:
        return f"secondary zone {self.zone}"

    def probe(self) -> str:
        return served_serial_probe(self.zone)

    def compare(self, output: str) -> Change | None:
        served = _int(output)
        if self.expected is None or served == self.expected:
            return None
        what = "does not serve the zone yet" if served is None else f"serves serial {served}"
        return self.change("retransfer", f"{what}; primary {self.primary} serves {self.expected}")

    def fix(self, change: Change) -> str:
        # The notified handler retransfers once the new configuration and keys
        # are loaded: a transfer started now could still use a stale key.
        return "true\n"
