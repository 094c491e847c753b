"""The asynchronous worker: takes queued jobs from the database and does them.

A job counts the words of a new entry. The worker records a heartbeat on
every pass, which `/health` reports, and stops cleanly on SIGTERM.
"""

from __future__ import annotations

import signal
import sys
import time

import store

BATCH = 20


def work_once(con) -> int:
    """Do up to BATCH pending jobs; the number done."""
    done = 0
    for job in con.execute("SELECT id, entry FROM jobs WHERE done IS NULL ORDER BY id LIMIT ?", (BATCH,)).fetchall():
        with store.transaction(con):
            row = con.execute("SELECT message FROM entries WHERE id = ?", (job["entry"],)).fetchone()
            if row is not None:
                con.execute("UPDATE entries SET words = ? WHERE id = ?", (len(row["message"].split()), job["entry"]))
            con.execute("UPDATE jobs SET done = ? WHERE id = ?", (time.time(), job["id"]))
        done += 1
    return done


def heartbeat(con) -> None:
    with store.transaction(con):
        store.set_meta(con, "worker_seen", f"{time.time():.3f}")


def main(argv: list[str] | None = None) -> int:
    settings = store.settings((argv or sys.argv[1:])[0])
    con = store.connect(settings["database"])
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    while not stopping:
        heartbeat(con)
        if not work_once(con):
            time.sleep(settings["poll_seconds"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
