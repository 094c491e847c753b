"""The systemd units of scheduled checks, checked by `systemd-analyze verify` before install."""

from __future__ import annotations

import re

from fleetfab.resources import File
from fleetfab.roles.controller.settings import ACCOUNT, HOME, INVENTORY, STATE_DIR, UNIT, UNIT_DIR, VENV

RELOAD = "reload systemd"
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
        parts += ["--notify", settings["notify"]]
    return " ".join(part if PLAIN.fullmatch(part) else systemd_quoted(part) for part in parts)


def systemd_quoted(word: str) -> str:
    """One ExecStart= argument: double-quoted, with systemd's escapes for \\, " and the specifier %."""
    return '"' + word.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%").replace("$", "$$") + '"'


def unit_files(ctx) -> list[File]:
    s = ctx.settings
    service = ctx.template("controller/fleetfab-drift.service.j2", account=ACCOUNT, inventory_path=INVENTORY,
                           command=scheduled_command(s), time_limit=s["time_limit"],
                           writable=[HOME, s["textfile_dir"]])
    timer = ctx.template("controller/fleetfab-drift.timer.j2", interval=s["interval"], unit=UNIT)
    return [
        File(f"{UNIT_DIR}/{UNIT}.service", service, validate=verified(f"{UNIT}.service"), notify=RELOAD),
        File(f"{UNIT_DIR}/{UNIT}.timer", timer, validate=verified(f"{UNIT}.timer"), notify=RELOAD),
    ]
