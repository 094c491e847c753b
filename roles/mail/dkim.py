"""DKIM keys: generated on the mail host, published through the fleet's name servers.

One RSA-2048 key signs every domain of a host; its selector names it
(`s<UTC timestamp>`). Keys live in /etc/opendkim/keys/<selector>.private,
readable by opendkim alone, and never leave the host: the exports carry the
public halves of every key present (all of them are published) and the
name of the one that signs (`active`), so a rotation can publish a new key
long before it signs with it, and withdraw the old one only afterwards.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from fleetfab.resources import Command
from fleetfab.resources.base import Change, Resource
from fleetfab.resources.safewrite import as_writer, enter
from fleetfab.shell import q

KEY_DIR = "/etc/opendkim/keys"
ACTIVE = f"{KEY_DIR}/active"
BITS = 2048


def key_path(selector: str) -> str:
    return f"{KEY_DIR}/{selector}.private"


def new_selector(now: float | None = None) -> str:
    return time.strftime("s%Y%m%d%H%M%S", time.gmtime(now))


def generate_script(selector: str) -> str:
    """A new key for `selector`, made on the host, opendkim's alone."""
    return f"sel={q(selector)}\n{_GENERATE}"


#: The key folder is opendkim's, so opendkim makes the key in it (`safewrite`):
#: a link it planted under the selector's name, which anyone can predict,
#: redirects only its own write. Root chowns only in a folder of root's alone.
#: The private half is written with umask 077 and never read back.
_GENERATE = (
    "set -e\numask 077\n"
    + enter(f"{KEY_DIR}/$sel.private", KEY_DIR, "opendkim", "opendkim")
    + as_writer(f"umask 077; /usr/sbin/opendkim-genkey -b {BITS} -h rsa-sha256 -r -s \"$1\" -D . -d fleet && rm -f -- \"$1.txt\"",
                '"$sel"') + "\n"
    + "[ -n \"$ff_as\" ] || chown -h opendkim:opendkim -- \"$sel.private\"\n"
)


def _write_active(selector: str) -> str:
    """`active` is written like the keys: by opendkim in its folder, under a fresh name renamed into place."""
    write = 'umask 077; t=$(mktemp ./.fleetfab.XXXXXX) && printf "%s\\n" "$1" > "$t" && mv -T -f -- "$t" active || { rm -f -- "$t"; exit 1; }'
    return as_writer(write, selector) + "\n"


def first_key() -> Command:
    """A host with no key yet gets one, and signs with it."""
    run = f"sel=$(date -u +s%Y%m%d%H%M%S)\n{_GENERATE}{_write_active(chr(34) + '$sel' + chr(34))}"
    return Command("generate the first DKIM key", run=run, creates=ACTIVE)


#: a key file is read without following a link (dd's nofollow), at most 64 KiB
KEYS_COMMAND = (
    f"cd {q(KEY_DIR)} && for f in *.private; do [ -f \"$f\" ] || continue; "
    "printf '%s %s\\n' \"${f%.private}\" \"$(dd if=\"$f\" iflag=nofollow bs=65536 count=1 status=none "
    "| openssl pkey -pubout -outform DER | base64 -w0)\"; done"
)
ACTIVE_COMMAND = f"dd if={q(ACTIVE)} iflag=nofollow bs=256 count=1 status=none"


def parse_keys(text: str) -> dict[str, str]:
    """selector -> base64 public key, from the `dkim_keys` export."""
    found = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2:
            found[parts[0]] = parts[1]
    return found


def txt_value(public_key: str) -> str:
    return f"v=DKIM1; k=rsa; p={public_key}"


@dataclass(frozen=True)
class NewKey(Resource):
    """A rotation's new key: wanted once, by the selector the rotation chose."""

    selector: str

    @property
    def key(self) -> str:
        return f"dkim key {self.selector}"

    def probe(self) -> str:
        return f"[ -e {q(key_path(self.selector))} ] && echo present || echo absent"

    def compare(self, output: str) -> Change | None:
        if output.strip() == "present":
            return None
        return self.change("generate", f"generate DKIM key {self.selector} on the host (published before it signs)")

    def fix(self, change: Change) -> str:
        return generate_script(self.selector)


@dataclass(frozen=True)
class RetiredKey(Resource):
    """A rotation's old key, removed once nothing signs with it (no backup: it is a private key)."""

    selector: str

    @property
    def key(self) -> str:
        return f"dkim key {self.selector} retired"

    def probe(self) -> str:
        return f"[ -e {q(key_path(self.selector))} ] && echo present || echo absent"

    def compare(self, output: str) -> Change | None:
        if output.strip() == "absent":
            return None
        return self.change("remove", f"remove DKIM key {self.selector}: its record is withdrawn next")

    def fix(self, change: Change) -> str:
        # rm removes the name itself, never what a link points to
        return f"rm -f -- {q(key_path(self.selector))}\n"


@dataclass(frozen=True)
class ActiveSelector(Resource):
    """Which key signs: switched by a rotation once every name server serves the new one."""

    selector: str

    @property
    def key(self) -> str:
        return f"dkim signing key {self.selector}"

    def probe(self) -> str:
        return f"{ACTIVE_COMMAND} 2>/dev/null || true"

    def compare(self, output: str) -> Change | None:
        if output.strip() == self.selector:
            return None
        return self.change("switch", f"sign with {self.selector} instead of {output.strip() or 'nothing'}")

    def fix(self, change: Change) -> str:
        return "set -e\n" + enter(ACTIVE, KEY_DIR, "opendkim", "opendkim") + _write_active(q(self.selector))
