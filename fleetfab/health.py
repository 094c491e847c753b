"""Health checks: does a host's service answer, looked at from the host itself?

A role states its checks with its `health(ctx)` hook (fleetfab.role.Role), as
read-only resources: a probe (a name server asked for its zones, a greeting
read on port 25) and a judgement of its answer. The engine runs them like
drift, in the host's one batched read and under its lock: a check that fails
is a change of the kind `unhealthy`, which nothing ever applies. After an
upgrade, a host is healthy when its drift is clean and every check passes.

The answers are the host's, so checks judge them strictly and say what they
expected, never echoing more than a short, escaped part of what came back.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from fleetfab.resources.base import Change, Resource
from fleetfab.shell import q
from fleetfab.text import one_line

#: the action of a failed check: reported, never applied
UNHEALTHY = "unhealthy"
#: the mark of a failed check that waiting cannot mend
FINAL = "final"
#: how much of an answer a failed check quotes
QUOTED = 120


@dataclass(frozen=True)
class HealthCheck(Resource):
    """One read-only check; subclasses say `what`, `probe()` and `problem(output)`."""

    what: str

    #: a failure that may pass by itself as services finish starting (asked again for a while);
    #: False for one that waiting cannot mend (a unit systemd already gave up on)
    settles = True

    @property
    def key(self) -> str:
        return f"health: {self.what}"

    def problem(self, output: str) -> str | None:
        """None when the answer shows the service healthy, else what is wrong."""
        raise NotImplementedError

    def compare(self, output: str) -> Change | None:
        found = self.problem(output)
        return None if found is None else self.change(UNHEALTHY, found, data=() if self.settles else (FINAL,))

    def fix(self, change: Change) -> str:
        return f"echo {q(change.summary)} >&2\nexit 3\n"


def quoted(output: str) -> str:
    """A short, escaped part of a host's answer, for a failed check's message."""
    text = one_line(output.strip())
    return repr(text[:QUOTED] + ("..." if len(text) > QUOTED else "")) if text else "nothing"


@dataclass(frozen=True)
class ExpectLine(HealthCheck):
    """A command whose answer must hold a line starting with `expect` (a status word, a protocol greeting)."""

    command: str = ""
    expect: str = ""
    expected: str = ""

    def probe(self) -> str:
        return f"( {self.command} ) 2>&1 | head -c 4096"

    def problem(self, output: str) -> str | None:
        if any(line.strip().startswith(self.expect) for line in output.splitlines()):
            return None
        return f"expected {self.expected or repr(self.expect)}, got {quoted(output)}"


def is_health_change(change) -> bool:
    return change.action == UNHEALTHY


def checking(role, drift: bool = True):
    """The role as a health run sees it: its health checks (after its own state when `drift`) as its
    resources; prepare, exports and settings unchanged, so the run reads the host as drift does.
    The host's first role also carries the engine's own check of every host (SystemRunning)."""
    checked = copy.copy(role)

    def resources(ctx):
        own = list(role.resources(ctx)) if drift else []
        host_checks = [SystemRunning()] if ctx.host.roles and ctx.host.roles[0] == ctx.role else []
        return own + list(role.health(ctx)) + host_checks

    checked.resources = resources
    return checked


def checking_roles(roles: dict, drift: bool = True) -> dict:
    return {name: checking(role, drift) for name, role in roles.items()}


#: Perl is in every Debian system (perl-base is essential): a small client for the checks' dialogues
_PERL_DIALOGUE = r'''
use IO::Socket::INET;
my ($port, @say) = @ARGV;
$SIG{ALRM} = sub { print "timeout\n"; exit 0 };
alarm 20;
my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => $port, Timeout => 10)
  or do { print "refused: $!\n"; exit 0 };
sub reply { my $all = ""; while (my $l = <$s>) { $all .= $l; last if $l !~ /^\d{3}-/ } return $all }
my $r = reply(); $r =~ s/\r//g; print "< ", (split /\n/, $r)[0], "\n";
for my $line (@say) {
  print $s "$line\r\n"; $r = reply(); $r =~ s/\r//g;
  my @lines = split /\n/, $r; print "< $_\n" for @lines;
}
'''


def dialogue(port: int, *lines: str) -> str:
    """A probe that connects to 127.0.0.1:`port`, prints the greeting's first line, then sends each
    line and prints every reply line, each prefixed '< ' (SMTP's multi-line replies read whole)."""
    words = " ".join(q(line) for line in lines)
    return f"perl -e {q(_PERL_DIALOGUE)} {int(port)} {words} 2>&1 | head -c 8192"


def replies(output: str) -> list[str]:
    """The reply lines of a `dialogue`, without their prefix."""
    return [line[2:] for line in output.splitlines() if line.startswith("< ")]


@dataclass(frozen=True)
class Greets(HealthCheck):
    """A TCP service on this host greets a client with a line starting with `expect` (IMAP's '* OK')."""

    port: int = 0
    expect: str = ""

    def probe(self) -> str:
        return dialogue(self.port)

    def problem(self, output: str) -> str | None:
        got = replies(output)
        if got and got[0].startswith(self.expect):
            return None
        return f"port {self.port}: expected a greeting starting {self.expect!r}, got {quoted(output)}"


@dataclass(frozen=True)
class SystemRunning(HealthCheck):
    """systemd has no failed unit: a service that failed to start after an upgrade is named here."""

    what: str = "no failed systemd unit"
    settles = False

    def probe(self) -> str:
        return "systemctl list-units --failed --plain --no-legend --no-pager 2>&1 | head -c 8192"

    def problem(self, output: str) -> str | None:
        units = [line.split()[0] for line in output.splitlines() if line.strip()]
        if not units:
            return None
        shown_units = ", ".join(u for u in units[:8] if len(u) < 100)
        return f"failed units: {one_line(shown_units)}"
