"""The example operator's application (examples/operator/roles/guestbook/app): its migration, web app and worker.

The files fleetfab ships to the host are run here as they are: a temporary
SQLite database, the WSGI app called directly, the worker's one pass.
"""

from __future__ import annotations

import importlib
import io
import json
import sys
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "examples" / "operator" / "roles" / "guestbook" / "app"
MODULES = ("store", "migrate", "web", "worker")


@pytest.fixture
def app(monkeypatch):
    """The application's modules, imported from the files the role ships, forgotten afterwards."""
    monkeypatch.syspath_prepend(str(APP))
    for name in MODULES:
        monkeypatch.delitem(sys.modules, name, raising=False)
    loaded = {name: importlib.import_module(name) for name in MODULES}
    yield loaded
    for name in MODULES:
        sys.modules.pop(name, None)


@pytest.fixture
def database(tmp_path) -> str:
    return str(tmp_path / "guestbook.sqlite3")


@pytest.fixture
def migrated(app, database) -> str:
    assert app["migrate"].main(["--database", database, "--release", "1.0"]) == 0
    return database


def call(app, settings: dict, method: str, path: str, body: str = "") -> tuple[str, str]:
    """The WSGI app's status line and body for one request."""
    data = body.encode()
    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "CONTENT_LENGTH": str(len(data)) if data else "",
               "wsgi.input": io.BytesIO(data)}
    started = {}
    chunks = app["web"].application(settings)(environ, lambda status, headers: started.update(status=status))
    return started["status"], b"".join(chunks).decode()


def settings_for(database: str, release: str = "1.0") -> dict:
    return {"release": release, "listen": "127.0.0.1", "port": 8000, "database": database, "poll_seconds": 1}


# -- the migration: the init step of a release -------------------------------------

def test_a_new_database_is_brought_to_the_latest_schema_and_records_its_release(app, migrated):
    con = app["store"].connect(migrated)
    assert app["store"].schema(con) == app["store"].LATEST
    assert app["store"].meta(con, "release") == "1.0"


def test_the_check_says_the_migrated_release_needs_nothing(app, migrated):
    assert app["migrate"].main(["--database", migrated, "--release", "1.0", "--check"]) == 0


def test_the_check_says_a_new_release_needs_its_migration(app, migrated):
    assert app["migrate"].main(["--database", migrated, "--release", "1.1", "--check"]) == 1


def test_the_check_of_a_missing_database_makes_no_file(app, database):
    assert app["migrate"].main(["--database", database, "--release", "1.0", "--check"]) == 1
    assert not Path(database).exists()


def test_migrating_an_up_to_date_schema_applies_nothing_and_records_the_new_release(app, migrated):
    con = app["store"].connect(migrated)
    assert app["migrate"].migrate(con, "1.1") == []
    assert app["store"].meta(con, "release") == "1.1"


def test_a_database_newer_than_the_code_is_refused(app, migrated):
    con = app["store"].connect(migrated)
    app["store"].set_meta(con, "schema", str(app["store"].LATEST + 1))
    with pytest.raises(SystemExit, match="newer than this release knows"):
        app["migrate"].migrate(con, "1.0")


# -- the web application ----------------------------------------------------------------

def test_ping_answers_with_the_running_release(app, migrated):
    assert call(app, settings_for(migrated, "1.0"), "GET", "/ping") == ("200 OK", "pong 1.0\n")


def test_a_posted_entry_is_queued_for_the_worker(app, migrated):
    status, text = call(app, settings_for(migrated), "POST", "/entries", "author=ann&message=hello+there+world")
    assert (status, text) == ("201 Created", "entry 1 queued\n")
    assert call(app, settings_for(migrated), "GET", "/")[1] == "ann: hello there world (queued)\n"
    assert app["store"].pending(app["store"].connect(migrated)) == 1


def test_the_worker_counts_the_words_of_queued_entries_and_empties_the_queue(app, migrated):
    call(app, settings_for(migrated), "POST", "/entries", "author=ann&message=hello+there+world")
    con = app["store"].connect(migrated)
    assert app["worker"].work_once(con) == 1
    assert app["worker"].work_once(con) == 0
    assert call(app, settings_for(migrated), "GET", "/")[1] == "ann: hello there world (words: 3)\n"


def test_health_is_503_until_the_worker_has_been_seen(app, migrated):
    status, text = call(app, settings_for(migrated), "GET", "/health")
    assert status.startswith("503") and json.loads(text)["worker_seen_seconds_ago"] is None
    app["worker"].heartbeat(app["store"].connect(migrated))
    status, text = call(app, settings_for(migrated), "GET", "/health")
    assert status == "200 OK" and json.loads(text)["healthy"] is True


def test_health_is_503_while_the_database_is_behind_the_running_release(app, migrated):
    app["worker"].heartbeat(app["store"].connect(migrated))
    status, text = call(app, settings_for(migrated, "1.1"), "GET", "/health")
    assert status.startswith("503") and json.loads(text)["release"] == "1.0"


def test_an_entry_without_an_author_is_refused(app, migrated):
    status, _ = call(app, settings_for(migrated), "POST", "/entries", "message=hello")
    assert status == "400 Bad Request"


def test_a_body_larger_than_the_limit_is_refused_unread(app, migrated):
    body = "author=ann&message=" + "x" * app["web"].MAX_BODY
    assert call(app, settings_for(migrated), "POST", "/entries", body)[0] == "413 Content Too Large"


def test_an_unknown_path_is_404_and_a_known_path_with_another_method_405(app, migrated):
    assert call(app, settings_for(migrated), "GET", "/admin")[0] == "404 Not Found"
    assert call(app, settings_for(migrated), "POST", "/ping")[0] == "405 Method Not Allowed"


def test_the_application_uses_the_standard_library_only(app):
    stdlib = set(sys.stdlib_module_names) | set(MODULES)
    for module in app.values():
        imported = {line.split()[1].split(".")[0] for line in Path(module.__file__).read_text().splitlines()
                    if line.startswith(("import ", "from ")) and not line.startswith("from __future__")}
        assert imported <= stdlib, f"{module.__name__}: {sorted(imported - stdlib)}"
