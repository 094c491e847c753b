"""`python -m fleetfab.scheduled.send`: the notification unit, run as the notification account after each check.

It reads the notice the check left in the outbox, runs the operator's command
with the change as JSON on its standard input (fleetfab/scheduled/notify.py:
bounded in time, its own process group) and records the outcome in its own
folder. A notice is attempted once: the unit started again (by hand, or by a
check that had no news) finds nothing pending and exits 0.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from fleetfab.scheduled import outbox
from fleetfab.scheduled.notify import DEFAULT_TIMEOUT, notify


def parser() -> argparse.ArgumentParser:
    parse = argparse.ArgumentParser(prog="python -m fleetfab.scheduled.send", description=(
        "Run the notification command for the newest notice a scheduled check left, once."))
    parse.add_argument("--outbox", type=Path, required=True, help="where the check leaves notice.json")
    parse.add_argument("--state-dir", type=Path, required=True, help="where notify.json (the last outcome) is kept")
    parse.add_argument("--notify", required=True, help="shell command run with the change as JSON on stdin")
    parse.add_argument("--notify-timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds the command may take")
    return parse


def send(box: Path, state_dir: Path, command: str, timeout: float = DEFAULT_TIMEOUT, notifier=notify) -> dict | None:
    """Attempt the pending notice; its outcome, or None when nothing was pending."""
    notice = outbox.pending(box, state_dir)
    if notice is None:
        return None
    result = notifier(command, notice["change"], timeout)
    outbox.record(state_dir, notice, result)
    logging.getLogger("fleetfab.scheduled").info("notified: %s", "ok" if result.get("ok") else result.get("error"))
    return result


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="fleetfab-notify: %(message)s", stream=sys.stderr)
    send(args.outbox, args.state_dir, args.notify, args.notify_timeout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
