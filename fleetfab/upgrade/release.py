"""`fab -H NAMES release-upgrade --to trixie`: Debian 12 to 13 in place, one host at a time.

For each host, each step one engine run (fleetfab.upgrade.procedure):

1. release: the host runs the release before `--to` (one already on it is skipped);
2. before: drift clean and every health check passing;
3. precautions (read-only, fleetfab.upgrade.precautions): no held package,
   dpkg clean, no foreign policy-rc.d, every apt source switchable; then the
   new release previewed in a private copy of apt's state: what it changes,
   and enough disk space for it. A dry run stops here, having changed nothing;
4. out of service, where a role knows how;
5. service starts held: a policy-rc.d refuses every start and restart a
   package script asks for (but SSH's), so no service starts on the new
   release with the old release's files (Dovecot 2.4 on a 2.3 configuration);
6. sources switched to the new release's suites;
7. download: every package fetched first, so a failed download changes nothing;
8. install: `upgrade --without-new-pkgs`, then `dist-upgrade`, files kept;
9. files: every role's files and folders rendered for the release the host
   now runs, validated by its new programs, no service touched;
10. service starts released: policy-rc.d removed, and each start or restart
   the package scripts asked for meanwhile done now, on those files (one that
   fails now, its old release's instance still holding it, is the converge's);
10b. converge: every role, as a bootstrap (services, handlers);
11. reboot (always: the new systemd and C library run only after one), wait,
    and converge again (what a boot rewrites is put back);
12. after: drift clean and every health check passing;
13. back in service.

A VM host whose guests would all go down with it is refused unless
--guests-down. The first failure stops: the hosts after it are untouched.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from fleetfab.cli import exitcodes
from fleetfab.cli.commands import consoles, load_or_explain
from fleetfab.health import UNHEALTHY, HealthCheck
from fleetfab.release import SUPPORTED
from fleetfab.upgrade.precautions import (DpkgAudited, NoForeignPolicy, NoHeldPackages, ReleasePreview,
                                          preview_files)
from fleetfab.upgrade.procedure import SETTLE, Procedure, Stopped
from fleetfab.upgrade.rolling import REBOOT_TIMEOUT, guests_of, reboot, service_steps, stopped
from fleetfab.upgrade.sources import SourcesSwitched
from fleetfab.shell import q
from fleetfab.upgrade.steps import HELD_LOG, POLICY, POLICY_MARK, ReleaseInstalled, StartsReleased, starts_held

#: the release each supported release upgrades to
NEXT = {"bookworm": "trixie"}
ALWAYS_REBOOT = "a new release runs its own systemd and C library only after a reboot"


@dataclass(frozen=True)
class OnRelease(HealthCheck):
    """The host runs `old` (fine), `new` (nothing to do: an `already` change; or, with fleetfab's
    policy-rc.d still in place, an upgrade that stopped after its install: a `resume` change), or
    another release (refused)."""

    old: str = ""
    new: str = ""

    def probe(self) -> str:
        return (f"( . /etc/os-release 2>/dev/null; echo \"${{VERSION_CODENAME:-unknown}}\" ) | head -c 64; "
                f"if grep -qs {q(POLICY_MARK)} {POLICY} || [ -e {HELD_LOG} ]; then echo held; else echo free; fi")

    def state(self, output: str) -> tuple[str, bool]:
        lines = output.strip().splitlines() + ["", ""]
        return lines[0].strip(), lines[1].strip() == "held"

    def problem(self, output: str) -> str | None:
        found, _ = self.state(output)
        if found in (self.old, self.new):
            return None
        return f"it runs {found[:32]!r}: release-upgrade --to {self.new} upgrades hosts on {self.old} only"

    def compare(self, output: str):
        found, held = self.state(output)
        if found == self.new:
            if held:
                return self.change("resume", f"on {self.new} with service starts still held: the upgrade goes on from converging")
            return self.change("already", f"already on {self.new}")
        return super().compare(output)


def refusal(inventory, selected, to: str, guests_down: bool) -> str | None:
    """Why the task refuses before contacting any host, or None."""
    if to not in NEXT.values():
        known = ", ".join(f"{old} -> {new}" for old, new in NEXT.items())
        return f"--to {to!r}: fleetfab upgrades {known} (supported releases: {', '.join(sorted(SUPPORTED.values()))})"
    if not selected:
        return "name the hosts with -H"
    holding = [h.name for h in selected if guests_of(inventory, h.name)]
    if holding and not guests_down:
        return (f"{', '.join(holding)}: a VM host whose guests ({', '.join(g for n in holding for g in guests_of(inventory, n))}) "
                "would all go down with it; rerun with --guests-down to allow it")
    return None


def release_upgrade(hosts: str | None, to: str, dry: bool = False, reboot_timeout: float = REBOOT_TIMEOUT,
                    guests_down: bool = False, parallel: int | None = None) -> int:
    out, err = consoles()
    if not hosts:
        err.print("release-upgrade needs -H: the hosts to upgrade, one at a time", style="bold red")
        return exitcodes.FAILED
    loaded = load_or_explain(err, hosts, changes=not dry)
    if loaded is None:
        return exitcodes.FAILED
    inventory, selected = loaded
    why = refusal(inventory, selected, to, guests_down)
    if why:
        err.print(f"release-upgrade refused: {why}; nothing was contacted", style="bold red", markup=False)
        return exitcodes.FAILED
    old = next(o for o, n in NEXT.items() if n == to)
    purpose = f"release-upgrade --to {to}"
    with Procedure(inventory, selected, purpose, out, err, parallel, dry=dry) as proc:
        for host in selected:
            proc.outcomes[host.name].status = "started"
            try:
                done = upgrade_host(proc, host.name, old, to, dry, reboot_timeout, guests_down)
            except Stopped as stop:
                return stopped(proc, stop, [host.name])
            proc.outcomes[host.name].status = done
            if not dry and done.startswith("upgraded"):
                proc.record(host.name, done, failed=False)
        proc.out.print(proc.outcome_table(purpose + (" --dry (nothing was changed)" if dry else "")))
    return exitcodes.OK


def upgrade_host(proc: Procedure, name: str, old: str, new: str, dry: bool, reboot_timeout: float,
                 guests_down: bool) -> str:
    inventory = proc.inventory
    on = proc.act("release", {name: [OnRelease("release", old, new)]}, apply=False)
    found = on.reports[0].changes[0].change if on.reports[0].changes else None
    if found is not None and found.action == "already":
        return f"already on {new}: nothing done"
    if found is not None and found.action == "resume":
        if dry:
            return f"on {new}, its upgrade stopped after the install: a run without --dry goes on from converging"
        return finish(proc, name, new, reboot_timeout)
    if found is not None:
        raise Stopped(name, f"release: {found.summary}")
    proc.check("before", [name])
    files = precautions(proc, name, old, new)
    if dry:
        return f"ready for {new} (dry run: nothing was changed)"
    proc.act("out of service", service_steps(inventory, [name], "out_of_service"))
    proc.act("hold service starts", {name: [starts_held()]})
    with held_until_mended(name):
        proc.act("sources", {name: [SourcesSwitched(old, new)]})
        proc.act("download", {name: [ReleaseInstalled(new, download_only=True)]})
        proc.act("install", {name: [ReleaseInstalled(new)]})
    return finish(proc, name, new, reboot_timeout)


@contextlib.contextmanager
def held_until_mended(name: str):
    """A stop while service starts are held says so, and how to go on."""
    try:
        yield
    except Stopped as stop:
        raise Stopped(stop.host, f"{stop.why} (service starts stay held by {POLICY} on {name}; once the host is "
                                 "mended, run the same release-upgrade again: it goes on from converging)") from None


def finish(proc: Procedure, name: str, new: str, reboot_timeout: float) -> str:
    """From the new release's packages on: files rendered for it, services released, reboot, checks."""
    inventory = proc.inventory
    with held_until_mended(name):
        proc.converge("files for the new release", [name], files_only=True)
        proc.act("release service starts", {name: [StartsReleased()]})
    proc.converge("converge", [name])
    reboot(proc, [name], reboot_timeout, guests_down=True, always=ALWAYS_REBOOT)
    # what a boot rewrites (a container's /etc/hosts, a cloud's own files) is put back
    proc.converge("converge after the reboot", [name])
    proc.check("after", [name], settle=SETTLE)
    proc.act("back in service", service_steps(inventory, [name], "back_in_service"))
    return f"upgraded to {new}; drift clean and every health check passed"


def precautions(proc: Procedure, name: str, old: str, new: str) -> tuple:
    """Debian's precautions, read-only; the new release previewed. The source files as they will be."""
    checks = [NoHeldPackages(), DpkgAudited(), NoForeignPolicy(), SourcesSwitched(old, new)]
    result = proc.act("precautions", {name: checks}, apply=False)
    report = result.reports[0]
    failed = [c.change for c in report.changes if c.change.action in (UNHEALTHY, "refused")]
    if failed:
        raise Stopped(name, "precautions: " + "; ".join(f"{c.resource}: {c.summary}" for c in failed))
    switch = next(c.change for c in report.changes if c.change.resource.startswith("apt sources"))
    files = preview_files(switch.data)
    preview = proc.act("preview", {name: [ReleasePreview(f"{new} previewed", new, files)]}, apply=False)
    found = preview.reports[0].changes
    unhealthy = [c.change for c in found if c.change.action == UNHEALTHY]
    if unhealthy:
        raise Stopped(name, f"preview: {unhealthy[0].summary}")
    for record in found:
        if record.change.diff:
            proc.out.print(record.change.diff.rstrip("\n"), markup=False, highlight=False)
    return files
