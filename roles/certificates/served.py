"""The certificate a TLS service hands out is the one on disk: a renewal not yet loaded is drift."""

from __future__ import annotations

from dataclasses import dataclass

from fleetfab.resources.base import Change, Resource
from fleetfab.shell import q


@dataclass(frozen=True)
class ServedCertificate(Resource):
    port: int
    server_name: str
    path: str
    #: the protocol to speak before TLS (`smtp` on a submission port), as openssl s_client names it
    starttls: str | None = None

    @property
    def key(self) -> str:
        return f"served certificate {self.server_name}:{self.port}"

    def probe(self) -> str:
        fingerprint = "openssl x509 -noout -fingerprint -sha256 2>/dev/null"
        starttls = f"-starttls {q(self.starttls)} " if self.starttls else ""
        return (f"echo | timeout 5 openssl s_client {starttls}-connect 127.0.0.1:{self.port} -servername {q(self.server_name)} "
                f"2>/dev/null | {fingerprint} || true; echo; {fingerprint} -in {q(self.path)} || true")

    def compare(self, output: str) -> Change | None:
        found = [line.strip() for line in output.splitlines()]
        served = next((l for l in found[:1] if l), "")
        on_disk = next((l for l in found[1:] if l), "")
        if served and served == on_disk:
            return None
        what = "serves nothing" if not served else "serves another certificate than"
        return self.change("reload", f"port {self.port} {what} {self.path}")

    def fix(self, change: Change) -> str:
        # The notified reload makes the service load the file in place.
        return "true\n"
