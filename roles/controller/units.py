"""The systemd units of scheduled checks, checked by `systemd-analyze verify` before install."""

from __future__ import annotations

import re

from fleetfab.resources import File
from fleetfab.session import LOCK_FILE
from fleetfab.roles.controller.settings import (ACCOUNT, FIRST_CHECK, HOME, INVENTORY, NOTIFY_ACCOUNT, NOTIFY_HOME,
                                                NOTIFY_UNIT, OUTBOX, STATE_DIR, UNIT, UNIT_DIR, VENV)

#: systemd reads the units again and the timer starts over: the first check comes FIRST_CHECK later
RESTART = "reload systemd and check within a minute"
#: The run that changed the ops host holds its host lock until it ends: the timer is restarted only
#: then (a transient unit waits for the lock, shared), so the first check does not find the ops host
#: in the middle of its own bootstrap.
RESTART_COMMAND = (f"systemctl daemon-reload && systemd-run --quiet --no-block --collect "
                   f"--description='fleetfab: first check once this run ends' "
                   f"flock -w 3600 -s {LOCK_FILE} systemctl restart {UNIT}.timer")
#: words ExecStart= takes as they are
PLAIN = re.compile(r"[A-Za-z0-9_./:=+-]+")


def verified(name: str) -> str:
    """A validation command: the candidate under its real unit name, in a folder of its own.

    systemd-analyze knows a unit's type from its name, and checks that the
    programs it runs exist and that its settings parse.
    """
    return ('d=$(mktemp -d) && cp %s "$d"/' + name + ' && systemd-analyze verify "$d"/' + name +
            '; rc=$?; rm -rf "$d"; exit $rc')


def seconds(span: str) -> int:
    number, unit = re.fullmatch(r"(\d+)(s|min|h)", span).groups()
    return int(number) * {"s": 1, "min": 60, "h": 3600}[unit]


def scheduled_command(settings: dict) -> str:
    """The check stops its drift at nine tenths of the time limit, so that even a
    check cut short leaves its report, metrics and notification before systemd
    would kill it."""
    drift_timeout = max(1, seconds(settings["time_limit"]) * 9 // 10)
    parts = [f"{VENV}/bin/fleetfab-scheduled", "--inventory", INVENTORY, "--state-dir", STATE_DIR,
             "--textfile-dir", settings["textfile_dir"], "--keep", str(settings["keep"]),
             "--drift-timeout", str(drift_timeout), "--recorded-is-success"]
    if settings.get("notify"):
        parts += ["--outbox", OUTBOX, "--notify-state", NOTIFY_HOME]
    return exec_line(parts)


def notify_command(settings: dict) -> str:
    """The notification unit's program: the notice the check left, to the operator's command, once."""
    return exec_line([f"{VENV}/bin/python", "-m", "fleetfab.scheduled.send", "--outbox", OUTBOX,
                      "--state-dir", NOTIFY_HOME, "--notify", settings["notify"]])


def exec_line(parts: list[str]) -> str:
    return " ".join(part if PLAIN.fullmatch(part) else systemd_quoted(part) for part in parts)


def systemd_quoted(word: str) -> str:
    """One ExecStart= argument: double-quoted, with systemd's escapes for \\, " and the specifier %."""
    return '"' + word.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%").replace("$", "$$") + '"'


def unit_files(ctx) -> list[File]:
    """The notification unit (with a notify command) before the check's service that starts it, the timer last."""
    s = ctx.settings
    notifies = bool(s.get("notify"))
    service = ctx.template("controller/fleetfab-drift.service.j2", account=ACCOUNT, inventory_path=INVENTORY,
                           command=scheduled_command(s), time_limit=s["time_limit"],
                           writable=[HOME, s["textfile_dir"], *([OUTBOX] if notifies else [])],
                           notify_unit=NOTIFY_UNIT if notifies else None)
    timer = ctx.template("controller/fleetfab-drift.timer.j2", interval=s["interval"], first=FIRST_CHECK, unit=UNIT)
    files = []
    if notifies:
        notifier = ctx.template("controller/fleetfab-drift-notify.service.j2", account=NOTIFY_ACCOUNT, home=NOTIFY_HOME,
                                command=notify_command(s), hidden=HOME)
        files.append(File(f"{UNIT_DIR}/{NOTIFY_UNIT}.service", notifier, validate=verified(f"{NOTIFY_UNIT}.service"),
                          notify=RESTART))
    return files + [
        File(f"{UNIT_DIR}/{UNIT}.service", service, validate=verified(f"{UNIT}.service"), notify=RESTART),
        File(f"{UNIT_DIR}/{UNIT}.timer", timer, validate=verified(f"{UNIT}.timer"), notify=RESTART),
    ]
