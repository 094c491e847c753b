"""`fleetfab-scheduled` / `python -m fleetfab.scheduled`: one scheduled drift run, for a systemd service."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from fleetfab.cli import exitcodes
from fleetfab.scheduled.history import DEFAULT_KEEP
from fleetfab.scheduled.run import Settings, scheduled_run
from fleetfab.scheduled.state import Busy


def parser() -> argparse.ArgumentParser:
    parse = argparse.ArgumentParser(prog="fleetfab-scheduled", description=(
        "Run fab drift over the whole inventory once; keep the report and its history, write metrics "
        "for node_exporter, and leave the change in the outbox when the result differs from the run before "
        "(the notification runs from there as another account: python -m fleetfab.scheduled.send). "
        "Exits with the report's code: 0 clean, 2 drift, 1 a host could not be checked, "
        "3 the ops host's copy of the inventory is older than some hosts' last bootstrap."))
    parse.add_argument("--state-dir", type=Path, required=True, help="where latest.json, history/ and changes.json live")
    parse.add_argument("--textfile-dir", type=Path, help="node_exporter's textfile collector directory (fleetfab_drift.prom)")
    parse.add_argument("--keep", type=int, default=DEFAULT_KEEP, help=f"earlier reports kept (default {DEFAULT_KEEP})")
    parse.add_argument("--outbox", type=Path, help="where a change worth telling is left for the notification unit")
    parse.add_argument("--notify-state", type=Path, help="the notification account's folder (its notify.json, for the metrics)")
    parse.add_argument("--drift-timeout", type=float, help="seconds the drift check may take before it is interrupted")
    parse.add_argument("--inventory", type=Path, help="the inventory (sets FLEETFAB_INVENTORY)")
    parse.add_argument("--recorded-is-success", action="store_true",
                       help="exit 0 once the result is recorded, whatever drift found (for a systemd unit: "
                            "drift and unreachable hosts are in the report and metrics; a failed unit then "
                            "means the check itself did not run)")
    return parse


def settings(args: argparse.Namespace) -> Settings:
    return Settings(state_dir=args.state_dir, textfile_dir=args.textfile_dir, keep=args.keep, outbox=args.outbox,
                    notify_state=args.notify_state, drift_timeout=args.drift_timeout,
                    inventory=args.inventory.resolve() if args.inventory else None)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="fleetfab-scheduled: %(message)s", stream=sys.stderr)
    if args.keep < 1:
        print("fleetfab-scheduled: --keep must be at least 1", file=sys.stderr)
        return exitcodes.FAILED
    if args.inventory is not None:
        # absolute, so the drift child finds it whatever its working directory
        os.environ["FLEETFAB_INVENTORY"] = str(args.inventory.resolve())
    try:
        code = scheduled_run(settings(args))
        return exitcodes.OK if args.recorded_is_success else code
    except Busy as exc:
        logging.getLogger("fleetfab.scheduled").error("%s", exc)
        return exitcodes.FAILED


if __name__ == "__main__":
    sys.exit(main())
