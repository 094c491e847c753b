"""One certificate on its host: issued, renewed, or left alone while it is good.

Its probe reads what certbot keeps (names, days left, whether the key and
the certificate belong together); issuing and renewing are certbot's, with
the DNS-01 challenge answered through the fleet's own primary.
"""

from __future__ import annotations

from dataclasses import dataclass

from fleetfab.resources.base import Change, Resource, lines
from fleetfab.shell import q
from fleetfab.roles.certificates.settings import live


@dataclass(frozen=True)
class Certificate(Resource):
    name: str
    names: tuple[str, ...]
    margin_days: int
    issue: str
    renew: str

    @property
    def key(self) -> str:
        return f"certificate {self.name}"

    def probe(self) -> str:
        cert, key = q(live(self.name, "cert")), q(live(self.name, "privkey"))
        return (
            f"if [ -f {cert} ] && [ -f {key} ]; then\n"
            f"  echo \"@names $(openssl x509 -in {cert} -noout -ext subjectAltName 2>/dev/null | tail -n +2 | tr -d ' ')\"\n"
            f"  echo \"@days $(( ($(date -d \"$(openssl x509 -in {cert} -noout -enddate | cut -d= -f2)\" +%s) - $(date +%s)) / 86400 ))\"\n"
            f"  if [ \"$(openssl x509 -in {cert} -noout -pubkey | sha256sum)\" = \"$(openssl pkey -in {key} -pubout | sha256sum)\" ]; "
            "then echo '@key match'; else echo '@key mismatch'; fi\n"
            "else echo '@absent'; fi"
        )

    def compare(self, output: str) -> Change | None:
        state = dict(line.partition(" ")[::2] for line in lines(output) if line.startswith("@"))
        if "@absent" in state or "@names" not in state:
            return self.change("issue", f"issue for {', '.join(self.names)}")
        served = {n.removeprefix("DNS:").lower() for n in state["@names"].split(",") if n}
        if served != {n.lower() for n in self.names}:
            return self.change("reissue", f"names {', '.join(sorted(served))} -> {', '.join(self.names)}")
        if state.get("@key") != "match":
            return self.change("reissue", "the private key does not belong to the certificate")
        days = int(state.get("@days", "0") or 0)
        if days < self.margin_days:
            return self.change("renew", f"expires in {days} days (renewal is due within {self.margin_days})")
        return None

    def fix(self, change: Change) -> str:
        return f"set -e\n{self.renew if change.action == 'renew' else self.issue}\n"
