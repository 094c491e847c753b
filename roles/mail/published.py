"""Checks, from the mail host, that the name servers publish what the host signs and says.

The mail host asks each name server of the zone directly (not a resolver's
cache): a DKIM key on the host that no name server serves breaks every
signature, and a PTR that disagrees with the EHLO name gets mail refused.
A difference is drift; applying waits a while for the name servers (which
converge in the same bootstrap), then fails with what they still serve.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fleetfab.resources.base import Change, Resource
from fleetfab.shell import q

#: how long an applying run waits for the name servers to catch up
WAIT_SECONDS = 90


def dig(args: str, server: str) -> str:
    return f"dig +short +norecurse +time=2 +tries=1 {args} @{q(server)} 2>/dev/null"


def txt_joined(answer: str) -> str:
    """A TXT answer's character-strings joined, as a verifier reads them."""
    return "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', answer)).replace('\\"', '"')


def _wait(probe: str, ok: str, what: str) -> str:
    """A fix that waits for `probe` to satisfy `ok` (a shell test on $answer)."""
    return (
        f"i=0\nwhile [ $i -lt {WAIT_SECONDS // 3} ]; do\n  answer=$({probe})\n  if {ok}; then exit 0; fi\n"
        f"  i=$((i + 1)); sleep 3\ndone\necho {q(what)}\": $answer\" >&2\nexit 1\n"
    )


@dataclass(frozen=True)
class DkimServed(Resource):
    """`server` serves this host's active DKIM key for `domain`."""

    domain: str
    selector: str
    public_key: str
    server: str
    server_name: str

    @property
    def name(self) -> str:
        return f"{self.selector}._domainkey.{self.domain}"

    @property
    def key(self) -> str:
        return f"dkim record {self.name} on {self.server_name}"

    def probe(self) -> str:
        return dig(f"TXT {q(self.name)}", self.server)

    def compare(self, output: str) -> Change | None:
        served = txt_joined(output)
        if f"p={self.public_key}" in served.replace(" ", ""):
            return None
        what = "serves no DKIM key" if not served else "serves another DKIM key"
        return self.change("wait", f"{self.server_name} {what} for {self.name}; the host signs with {self.selector}")

    def fix(self, change: Change) -> str:
        ok = f"printf '%s' \"$answer\" | tr -d '\" \\n' | grep -qF {q('p=' + self.public_key)}"
        return _wait(self.probe(), ok, f"{self.server_name} still does not serve the host's DKIM key for {self.name}")


@dataclass(frozen=True)
class PtrAgrees(Resource):
    """The PTR of the host's address, as `server` serves it, names the EHLO host name."""

    address: str
    hostname: str
    server: str
    server_name: str

    @property
    def key(self) -> str:
        return f"ptr {self.address} on {self.server_name}"

    def probe(self) -> str:
        return dig(f"-x {q(self.address)}", self.server)

    def compare(self, output: str) -> Change | None:
        names = {n.rstrip(".").lower() for n in output.split()}
        if self.hostname.lower() in names:
            return None
        found = ", ".join(sorted(names)) or "no PTR"
        return self.change("wait", f"PTR of {self.address} on {self.server_name} is {found}; EHLO says {self.hostname}")

    def fix(self, change: Change) -> str:
        ok = f"printf '%s\\n' $answer | sed 's/\\.$//' | grep -qixF {q(self.hostname)}"
        return _wait(self.probe(), ok, f"{self.server_name} still has another PTR for {self.address} than {self.hostname}")


def main_cf_settings(text: str) -> dict[str, str]:
    """`name = value` settings of a main.cf, continuation lines joined, as `postconf -n` prints them."""
    settings: dict[str, str] = {}
    name = None
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line[0].isspace() and name:
            settings[name] = f"{settings[name]} {line.strip()}".strip()
            continue
        name, _, value = line.partition("=")
        name = name.strip()
        settings[name] = value.strip()
    return settings


@dataclass(frozen=True)
class PostfixInEffect(Resource):
    """The settings Postfix itself reports (`postconf -n`) are the desired ones.

    main.cf is compared as a file too; this says, in Postfix's terms, which
    settings differ, including one set twice (the last wins) or left over
    from a `postconf -e` run by hand.
    """

    wanted: tuple[tuple[str, str], ...]

    @property
    def key(self) -> str:
        return "postfix settings in effect"

    def probe(self) -> str:
        return "postconf -n 2>/dev/null || true"

    def compare(self, output: str) -> Change | None:
        found = main_cf_settings(output)
        wanted = dict(self.wanted)
        differ = [f"{k} = {found.get(k, '(unset)')} (wanted {v})" for k, v in wanted.items() if found.get(k) != v]
        extra = [f"{k} = {v} (not in the inventory)" for k, v in found.items() if k not in wanted]
        if not differ and not extra:
            return None
        return self.change("reload", "; ".join(differ + extra)[:400])

    def fix(self, change: Change) -> str:
        # main.cf is written (and Postfix reloaded) by its own File resource
        # in the same run; only a difference that remains is an error.
        return "true\n"
