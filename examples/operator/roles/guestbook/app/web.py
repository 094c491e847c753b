"""The web application: a WSGI app served by the standard library's wsgiref.

    GET  /ping      liveness, for the edge's health checks: 200 "pong"
    GET  /health    schema, release, queue and the worker's heartbeat as JSON;
                    503 when the database is behind this release or the worker is silent
    GET  /          the latest entries, as text
    POST /entries   author=...&message=... (form-encoded): a new entry, queued for the worker

It listens only on the address fleetfab gives it (the mesh's, by default),
behind the edge, which terminates TLS.
"""

from __future__ import annotations

import json
import socket
import socketserver
import sys
import time
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import store

MAX_BODY = 4096
MAX_AUTHOR, MAX_MESSAGE = 64, 1000
#: seconds without a worker heartbeat before /health says the worker is silent
WORKER_SILENT = 30
#: Linux's IP_FREEBIND: bind the mesh address even while the tunnel is still coming up
IP_FREEBIND = getattr(socket, "IP_FREEBIND", 15)


def application(settings: dict):
    """The WSGI callable for these settings."""

    def app(environ, start_response):
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO") or "/"
        route = ROUTES.get((method, path))
        if route is None:
            known = {m for m, p in ROUTES if p == path}
            status = "405 Method Not Allowed" if known else "404 Not Found"
            return reply(start_response, status, f"{status}\n")
        return route(settings, environ, start_response)

    return app


def reply(start_response, status: str, body: str, kind: str = "text/plain; charset=utf-8"):
    data = body.encode()
    start_response(status, [("Content-Type", kind), ("Content-Length", str(len(data)))])
    return [data]


def ping(settings, environ, start_response):
    return reply(start_response, "200 OK", f"pong {settings['release']}\n")


def health(settings, environ, start_response):
    con = store.connect(settings["database"])
    try:
        seen = float(store.meta(con, "worker_seen") or 0)
        state = {"release": store.meta(con, "release"), "schema": store.schema(con), "queued": store.pending(con),
                 "worker_seen_seconds_ago": round(time.time() - seen, 1) if seen else None}
    finally:
        con.close()
    healthy = (state["schema"] == store.LATEST and state["release"] == settings["release"]
               and state["worker_seen_seconds_ago"] is not None and state["worker_seen_seconds_ago"] < WORKER_SILENT)
    return reply(start_response, "200 OK" if healthy else "503 Service Unavailable",
                 json.dumps({"healthy": healthy, **state}) + "\n", "application/json")


def index(settings, environ, start_response):
    con = store.connect(settings["database"])
    try:
        rows = store.entries(con)
    finally:
        con.close()
    lines = [f"{r['author']}: {r['message']} ({'words: ' + str(r['words']) if r['words'] is not None else 'queued'})"
             for r in rows]
    return reply(start_response, "200 OK", "".join(line + "\n" for line in lines) or "no entries yet\n")


def post_entry(settings, environ, start_response):
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = -1
    if not 0 < length <= MAX_BODY:
        return reply(start_response, "413 Content Too Large" if length > MAX_BODY else "400 Bad Request",
                     f"a form of 1 to {MAX_BODY} bytes\n")
    form = parse_qs(environ["wsgi.input"].read(length).decode("utf-8", "replace"))
    author, message = (form.get("author") or [""])[0].strip(), (form.get("message") or [""])[0].strip()
    if not (0 < len(author) <= MAX_AUTHOR and 0 < len(message) <= MAX_MESSAGE):
        return reply(start_response, "400 Bad Request",
                     f"author (1-{MAX_AUTHOR} characters) and message (1-{MAX_MESSAGE}) are required\n")
    con = store.connect(settings["database"])
    try:
        entry = store.add_entry(con, author, message)
    finally:
        con.close()
    return reply(start_response, "201 Created", f"entry {entry} queued\n")


ROUTES = {("GET", "/ping"): ping, ("GET", "/health"): health, ("GET", "/"): index, ("POST", "/entries"): post_entry}


class Server(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True

    def server_bind(self):
        if self.address_family == socket.AF_INET:
            self.socket.setsockopt(socket.SOL_IP, IP_FREEBIND, 1)
        super().server_bind()


class Server6(Server):
    address_family = socket.AF_INET6


class QuietHandler(WSGIRequestHandler):
    """Logs requests to the journal, but not the edge's health checks every two seconds."""

    def log_request(self, code="-", size="-"):
        if not self.path.startswith("/ping"):
            super().log_request(code, size)


def main(argv: list[str] | None = None) -> int:
    settings = store.settings((argv or sys.argv[1:])[0])
    with make_server(settings["listen"], settings["port"], application(settings),
                     server_class=Server6 if ":" in settings["listen"] else Server,
                     handler_class=QuietHandler) as server:
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
