"""The init step of a release: bring the database to the latest schema and record the release.

fleetfab runs it once per release, before the new release starts:
`migrate.py --check` (exit 0: nothing to do) is the guard, `migrate.py`
the step. It runs as the application's own account.
"""

from __future__ import annotations

import argparse
import os
import sys

import store


def up_to_date(con, release: str) -> bool:
    return store.schema(con) == store.LATEST and store.meta(con, "release") == release


def migrate(con, release: str) -> list[int]:
    """Apply the versions the database lacks, and record `release`, all in one transaction."""
    with store.transaction(con):
        current = store.schema(con)
        if current > store.LATEST:
            raise SystemExit(f"the database is at schema {current}, newer than this release knows ({store.LATEST})")
        applied = []
        for version, statements in store.MIGRATIONS:
            if version > current:
                for statement in statements:
                    con.execute(statement)
                applied.append(version)
        store.set_meta(con, "schema", str(store.LATEST))
        store.set_meta(con, "release", release)
    return applied


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--release", required=True)
    parser.add_argument("--check", action="store_true", help="exit 0 if nothing is to be done, 1 otherwise")
    args = parser.parse_args(argv)
    if args.check:
        return 0 if os.path.exists(args.database) and up_to_date(store.read_only(args.database), args.release) else 1
    con = store.connect(args.database)
    applied = migrate(con, args.release)
    print(f"schema {store.LATEST} (applied: {', '.join(map(str, applied)) or 'none'}), release {args.release}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
