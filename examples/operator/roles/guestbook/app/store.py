"""The guestbook's data: one SQLite file shared by the web process and the worker.

Standard library only: the hosts it runs on reach no package index.
"""

from __future__ import annotations

import json
import sqlite3
import time
from urllib.parse import quote

#: each schema version and the statements that reach it from the one before;
#: a new release that needs a new table adds a version here, never edits one
MIGRATIONS = (
    (1, ("CREATE TABLE entries (id INTEGER PRIMARY KEY, author TEXT NOT NULL, message TEXT NOT NULL, "
         "created REAL NOT NULL, words INTEGER)",)),
    (2, ("CREATE TABLE jobs (id INTEGER PRIMARY KEY, entry INTEGER NOT NULL REFERENCES entries(id), done REAL)",
         "CREATE INDEX jobs_pending ON jobs (id) WHERE done IS NULL")),
)
LATEST = MIGRATIONS[-1][0]


def settings(path: str) -> dict:
    """The settings fleetfab writes (/etc/guestbook/guestbook.json)."""
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def connect(database: str) -> sqlite3.Connection:
    """A connection in WAL mode (the web process reads while the worker writes); the file is made if missing."""
    con = sqlite3.connect(database, timeout=10, isolation_level=None)
    con.row_factory = sqlite3.Row
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA foreign_keys=ON")
    con.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    return con


def read_only(database: str) -> sqlite3.Connection:
    """A connection that changes nothing, to an existing database (a check, not a change)."""
    con = sqlite3.connect(f"file:{quote(database)}?mode=ro", uri=True, timeout=10, isolation_level=None)
    con.row_factory = sqlite3.Row
    return con


def meta(con: sqlite3.Connection, key: str) -> str | None:
    try:
        row = con.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    except sqlite3.OperationalError:  # no meta table yet: a database nothing was recorded in
        return None
    return None if row is None else row["value"]


def set_meta(con: sqlite3.Connection, key: str, value: str) -> None:
    con.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value))


def schema(con: sqlite3.Connection) -> int:
    return int(meta(con, "schema") or 0)


def add_entry(con: sqlite3.Connection, author: str, message: str) -> int:
    """A new entry and the job that will count its words, in one transaction."""
    with transaction(con):
        entry = con.execute("INSERT INTO entries (author, message, created) VALUES (?, ?, ?)",
                            (author, message, time.time())).lastrowid
        con.execute("INSERT INTO jobs (entry) VALUES (?)", (entry,))
    return entry


def entries(con: sqlite3.Connection, limit: int = 50) -> list[sqlite3.Row]:
    return con.execute("SELECT id, author, message, words FROM entries ORDER BY id DESC LIMIT ?", (limit,)).fetchall()


def pending(con: sqlite3.Connection) -> int:
    return con.execute("SELECT count(*) FROM jobs WHERE done IS NULL").fetchone()[0]


class transaction:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on an error: one writer at a time."""

    def __init__(self, con: sqlite3.Connection):
        self.con = con

    def __enter__(self):
        self.con.execute("BEGIN IMMEDIATE")
        return self.con

    def __exit__(self, kind, value, traceback):
        self.con.execute("COMMIT" if kind is None else "ROLLBACK")
        return False
