"""The mail host's health, from the host itself: mail is accepted on port 25, IMAP and submission answer.

The SMTP check is a real exchange up to the recipient: greeting, EHLO (STARTTLS
offered), the null sender, then postmaster@ of the first domain, accepted with
250; it then resets and quits, so no message is ever sent.
"""

from __future__ import annotations

from dataclasses import dataclass

from fleetfab.health import Greets, HealthCheck, dialogue, quoted, replies
from fleetfab.roles.mail.maps import domains_of


@dataclass(frozen=True)
class AcceptsMail(HealthCheck):
    """Port 25 takes a message for `recipient` (the exchange stops before any data is sent)."""

    recipient: str = ""

    def probe(self) -> str:
        return dialogue(25, "EHLO health.fleetfab.test", "MAIL FROM:<>", f"RCPT TO:<{self.recipient}>", "RSET", "QUIT")

    def problem(self, output: str) -> str | None:
        got = replies(output)
        if not got or not got[0].startswith("220"):
            return f"port 25 did not greet with 220: {quoted(output)}"
        if not any(line.startswith("250") and "STARTTLS" in line.upper() for line in got):
            return f"port 25 does not offer STARTTLS after EHLO: {quoted(output)}"
        codes = [line[:3] for line in got if line[:3].isdigit() and (len(line) == 3 or line[3] == " ")]
        # the replies' last lines: greeting, EHLO, MAIL, RCPT, RSET, QUIT
        if len(codes) < 4 or codes[2] != "250" or codes[3] != "250":
            return f"port 25 did not accept a message for {self.recipient}: {quoted(output)}"
        return None


def checks(ctx) -> list[HealthCheck]:
    domains = domains_of(ctx.settings)
    found: list[HealthCheck] = []
    if domains:
        recipient = f"postmaster@{domains[0].name}"
        found.append(AcceptsMail(f"port 25 accepts mail for {recipient}", recipient))
    found.append(Greets("IMAP answers on port 143", 143, "* OK"))
    found.append(Greets("submission answers on port 587", 587, "220"))
    return found
