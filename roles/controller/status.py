"""`fab drift.status`: the ops hosts' last scheduled results, read from the operator's machine.

The state files and the timer's schedule are read in one command per ops
host, as the operator's own login (they are the drift account's, so through
sudo where the login is not root); an ops host that cannot be reached is said
so, and the others shown. Besides the last result: which inventory the ops
host checks against and whether it is the operator's, when the next check
runs, and how to run one now (`--now`, which runs it and waits). The exit code
is the last report's (fleetfab.scheduled.status.status_exit_code).
"""

from __future__ import annotations

import hashlib
import json
import re

from fleetfab.cli import exitcodes
from fleetfab.cli.commands import consoles, load_or_explain, read_on
from fleetfab.scheduled.outbox import OUTCOME, shaped_outcome
from fleetfab.scheduled.stale import source_digest
from fleetfab.scheduled.status import print_status, revision_line, schedule_lines, status_exit_code, worst
from fleetfab.shell import q
from fleetfab.text import one_line
from fleetfab.roles.controller.access import ops_hosts
from fleetfab.roles.controller.settings import NOTIFY_HOME, SOURCE, STATE_DIR, UNIT
from fleetfab.roles.controller.units import seconds

FILES = (f"{STATE_DIR}/latest.json", f"{STATE_DIR}/changes.json", SOURCE, f"{NOTIFY_HOME}/{OUTCOME}")
#: printed between the parts: never in a JSON document
BETWEEN = "\x1e"
#: what `systemctl show`, busctl, /proc/uptime and date print of the timer, the service and the clocks
TIMER_LINE = re.compile(r"(NextElapseUSecRealtime|ActiveState|Monotonic|Uptime|Now)=(.*)")
#: the timer's D-Bus object (its name escaped as systemd escapes it: '-' is _2d, '.' is _2e)
TIMER_PATH = f"/org/freedesktop/systemd1/unit/{UNIT.replace('-', '_2d')}_2etimer"
#: systemd's "never"
NEVER = 2 ** 64 - 1


def read_script() -> str:
    parts = [f"cat {q(path)} 2>/dev/null || true" for path in FILES]
    parts.append(f"systemctl show --timestamp=unix -p NextElapseUSecRealtime {UNIT}.timer 2>/dev/null || true; "
                 f"systemctl show -p ActiveState {UNIT}.service 2>/dev/null || true; "
                 f"printf 'Monotonic=%s\\n' \"$(busctl get-property org.freedesktop.systemd1 {TIMER_PATH} "
                 f"org.freedesktop.systemd1.Timer NextElapseUSecMonotonic 2>/dev/null)\"; "
                 f"printf 'Uptime=%s\\nNow=%s\\n' \"$(cut -d' ' -f1 /proc/uptime)\" \"$(date +%s)\"")
    return f"; printf '{BETWEEN}'; ".join(parts) + "\n"


def run_now_script() -> str:
    """One check now, waited for; the timer counts its interval from its end as usual."""
    return f"systemctl start {UNIT}.service\n"


def parse_json(part: str):
    try:
        return json.loads(part) if part.strip() else None
    except ValueError:
        return None


def parse_timer(text: str) -> dict:
    """{"next": unix seconds or None, "running": bool} (the host's words: shapes only). The timer's
    elapses are monotonic (OnActiveSec, OnUnitInactiveSec): the next one, in microseconds since boot, is
    turned into unix time with the host's own uptime and clock."""
    found = dict(m.groups() for m in map(TIMER_LINE.fullmatch, text.strip().splitlines()) if m)
    times = []
    stamp = re.fullmatch(r"@(\d{1,12})", found.get("NextElapseUSecRealtime", ""))
    if stamp:
        times.append(int(stamp.group(1)))
    mono = re.fullmatch(r"t (\d{1,20})", found.get("Monotonic", ""))
    uptime = re.fullmatch(r"\d{1,12}(\.\d{1,6})?", found.get("Uptime", ""))
    now = re.fullmatch(r"\d{1,12}", found.get("Now", ""))
    if mono and uptime and now and 0 < int(mono.group(1)) < NEVER:
        times.append(int(now.group(0)) + round(int(mono.group(1)) / 1e6 - float(uptime.group(0))))
    return {"next": min(times) if times else None, "running": found.get("ActiveState") in ("activating", "active")}


def parse(text: str) -> dict:
    """The ops host's answer: latest and change documents, the copy's source digest, the last notification
    and the timer; a part missing or not of its shape reads as None."""
    parts = (text.split(BETWEEN) + [""] * (len(FILES) + 1))[:len(FILES) + 1]
    latest, change = (doc if isinstance(doc, dict) else None for doc in map(parse_json, parts[:2]))
    return {"latest": latest, "change": change, "source": source_digest(parts[2]),
            "notification": shaped_outcome(parse_json(parts[3])), "timer": parse_timer(parts[4])}


def operator_digest(inventory) -> str | None:
    try:
        return hashlib.sha256(inventory.path.read_bytes()).hexdigest()
    except OSError:
        return None


def drift_status(hosts: str | None = None, now: bool = False) -> int:
    out, err = consoles()
    loaded = load_or_explain(err, hosts)
    if loaded is None:
        return exitcodes.FAILED
    inventory, selected = loaded
    names = {h.name for h in selected}
    ops = [h for h in ops_hosts(inventory) if h.name in names]
    if not ops:
        err.print(f"no {'selected ' if hosts else ''}host of {inventory.path} has the controller role: nothing checks "
                  "the fleet on a schedule", style="yellow")
        return exitcodes.FAILED
    codes = [show_ops_host(inventory, host, now, out, err) for host in ops]
    return worst(codes)


def show_ops_host(inventory, host, now: bool, out, err) -> int:
    if now and not run_now(inventory, host, err):
        return exitcodes.FAILED
    text = read_on(inventory, host, read_script(), "status", "read the scheduled drift results", err)
    if text is None:
        return exitcodes.FAILED
    found = parse(text)
    out.rule(f"ops host {host.name}")
    line, _ = revision_line(found["source"], operator_digest(inventory))
    out.print(line, highlight=False, markup=False)
    for line in schedule_lines(found["timer"], host.name):
        out.print(line, highlight=False, markup=False)
    print_status(out, found["latest"], found["change"])
    notification = found["notification"]
    if notification is not None:
        outcome = "ok" if notification["ok"] else f"failed: {notification.get('error') or 'no reason given'}"
        out.print(one_line(f"last notification (as fleetfab-notify): {outcome}"), highlight=False, markup=False)
    return status_exit_code(found["latest"])


def run_now(inventory, host, err) -> bool:
    """Start a check on the ops host and wait for it, as long as its own time limit allows."""
    from fleetfab.errors import describe_error
    from fleetfab.redact import Redactor
    from fleetfab.remote import Remote
    from fleetfab.ssh import connect

    limit = seconds(host.settings("controller")["time_limit"]) + 60
    err.print(f"{host.name}: running a scheduled check now (up to {limit} s)", style="dim")
    try:
        remote = Remote(host.name, connect(host, inventory.ssh), Redactor(), sudo=host.user != "root")
        try:
            remote.check(run_now_script(), "status", "run a scheduled check now", timeout=limit)
        finally:
            remote.close()
    except Exception as exc:
        err.print(one_line(f"{host.name}: the check did not run: {describe_error(exc)}"), style="bold red",
                  markup=False, highlight=False)
        return False
    return True
