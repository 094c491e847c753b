"""The edge host's health, from the host itself: each site is served over HTTPS.

A request for `/` of the site's first name, over TLS with that name (SNI), on
127.0.0.1:443: any HTTP status line proves HAProxy serves the site (a
backend that is down answers 503, which is HAProxy serving; the backends'
own health is theirs).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fleetfab.health import HealthCheck, quoted
from fleetfab.shell import q


@dataclass(frozen=True)
class ServesHttps(HealthCheck):
    name: str = ""

    def probe(self) -> str:
        request = f"HEAD / HTTP/1.1\\r\\nHost: {self.name}\\r\\nConnection: close\\r\\n\\r\\n"
        return (f"printf {q(request)} | timeout 15 openssl s_client -quiet -connect 127.0.0.1:443 "
                f"-servername {q(self.name)} 2>&1 | head -c 4096")

    def problem(self, output: str) -> str | None:
        if re.search(r"^HTTP/[0-9.]+ [0-9]{3}", output, re.MULTILINE):
            return None
        return f"no HTTPS answer for {self.name}: {quoted(output)}"


def checks(ctx) -> list[HealthCheck]:
    from fleetfab.roles.edge import sites_of

    return [ServesHttps(f"serves {site['hosts'][0]} over HTTPS", site["hosts"][0]) for site in sites_of(ctx) if site["hosts"]]
