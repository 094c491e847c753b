#!/usr/bin/python3 -I
"""fleetfab's read side on a managed host: what the ops host's key may run as root.

It takes no arguments and never executes text it is sent. Requests are JSON
lines on standard input; each names read-outs that the operator's bootstrap
installed in the store (/var/lib/fleetfab-read/readouts.json, root's alone),
each read-out named by the sha256 of its text. Only those texts are run, in
one shell, framed by a boundary of the request's (a fixed shape: it can only
label the output). A request outside the vocabulary, or naming a read-out
that is not installed, is refused. Every request, and every refusal, is
logged to syslog (authpriv) as `fleetfab-read`, with what it read.

Vocabulary (one JSON object a line, key "op"):
  lock      take the host's lock shared (reads never change a host)
  read      {"boundary": B, "sections": [[label, sha256], ...]}: run installed read-outs, one batch
  run       {"readout": sha256}: one installed read-out alone, its exit status and output
  recorded  the digests of the secret files the operator's bootstrap wrote (never a secret itself)
Answers: one JSON line; a `read` or `run` that succeeded is followed by the bytes it announces.

This file runs on hosts with Python 3 alone: it imports nothing of fleetfab.
"""

import fcntl
import hashlib
import json
import os
import re
import socket
import stat
import subprocess
import sys

STORE = "/var/lib/fleetfab-read"
MANIFEST = STORE + "/readouts.json"
LOCK_DIR = "/run/fleetfab"
LOCK_FILE = LOCK_DIR + "/lock"
NAME = "fleetfab-read"
#: syslog's socket (journald's on Debian); facility authpriv (10), severity info (6)
LOG_SOCKET = "/dev/log"
PRIORITY = 10 * 8 + 6
#: the most of one request line, of the manifest, and of one answer
MAX_REQUEST = 1 << 20
MAX_MANIFEST = 4 << 20
MAX_ANSWER = 16 << 20
#: seconds one request's read-outs may run
TIME_LIMIT = 300
#: what the ops key's client asks sshd to run (fleetfab.readside.FORCED_COMMAND): sshd runs this program whatever it asks
ASKED = "sudo -n /usr/local/libexec/fleetfab/read"
BOUNDARY = re.compile(r"FLEETFAB-[0-9a-f]{24}")
LABEL = re.compile(r"[a-z]{1,16}|[0-9]{1,6}")
DIGEST = re.compile(r"[0-9a-f]{64}")
#: what a read-out runs with: root's paths, no variable of the caller's
ENVIRONMENT = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root"}
#: the most of a logged line, so one request cannot flood the log
LOG_CHUNK = 900


class Refused(Exception):
    """A request this program does not answer; the reason is logged and answered."""


def log(message):
    """One request's record to syslog, in lines of at most LOG_CHUNK characters.

    A log that cannot be written stops the program: nothing is read unlogged.
    """
    text = "".join(c if c.isprintable() else "?" for c in message)
    caller = "".join(c for c in os.environ.get("SUDO_USER", "root") if c.isalnum() or c in "._-")[:32]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sink:
        sink.connect(LOG_SOCKET)
        for start in range(0, max(len(text), 1), LOG_CHUNK):
            sink.send(f"<{PRIORITY}>{NAME}[{os.getpid()}]: {caller}: {text[start:start + LOG_CHUNK]}".encode())


def root_only(st, writable_by_others_ok=False):
    mode = stat.S_IMODE(st.st_mode)
    return st.st_uid == 0 and (writable_by_others_ok or not mode & 0o022)


def load_manifest(path=MANIFEST, folder=STORE):
    """The installed read-outs and recorded digests; refused unless root's alone and intact."""
    st = os.lstat(folder)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != 0 or stat.S_IMODE(st.st_mode) & 0o077:
        raise Refused(f"{folder} is not a folder of root's alone")
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as handle:
        st = os.fstat(handle.fileno())
        if not stat.S_ISREG(st.st_mode) or not root_only(st) or st.st_size > MAX_MANIFEST:
            raise Refused(f"{path} is not root's own file of at most {MAX_MANIFEST} bytes")
        document = json.loads(handle.read(MAX_MANIFEST).decode())
    readouts = document.get("readouts", {})
    for digest, entry in readouts.items():
        text = entry.get("text", "")
        if not DIGEST.fullmatch(digest) or hashlib.sha256(text.encode()).hexdigest() != digest:
            raise Refused(f"{path}: read-out {digest[:16]} does not match its name")
    return document


def known(document, digest):
    entry = document["readouts"].get(digest) if isinstance(digest, str) else None
    if entry is None:
        raise Refused(f"read-out {str(digest)[:64]!r} is not installed here (the ops host's copy of the inventory "
                      "is older or newer than this host's last bootstrap)")
    return entry


def described(entry):
    return f"{entry.get('role', '?')}: {entry.get('what', '?')}"


def section(boundary, label, text):
    """The same framing fleetfab.facts.batch_script gives a probe."""
    return f"printf '\\n%s %s\\n' {boundary} {label}\n{{ {text}\n}} 2>/dev/null </dev/null"


def batch(document, request):
    boundary, sections = request.get("boundary"), request.get("sections")
    if not isinstance(boundary, str) or not BOUNDARY.fullmatch(boundary):
        raise Refused("read: the boundary must be FLEETFAB- and 24 hex digits")
    if not isinstance(sections, list) or not sections:
        raise Refused("read: no sections")
    parts, what = [], []
    for item in sections:
        if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], str) and LABEL.fullmatch(item[0])):
            raise Refused("read: a section is [label, sha256], the label a-z or a number")
        entry = known(document, item[1])
        parts.append(section(boundary, item[0], entry["text"]))
        what.append(described(entry))
    parts.append(f"printf '\\n%s\\n' '{boundary} end'")
    return "\n".join(parts) + "\n", what


def run_shell(script):
    """(exit status, stdout, stderr) of `sh -s` given the script; output bounded."""
    process = subprocess.run(["/bin/sh", "-s"], input=script.encode(), capture_output=True, env=ENVIRONMENT,
                             timeout=TIME_LIMIT, cwd="/")
    if len(process.stdout) > MAX_ANSWER:
        raise Refused(f"the answer passed {MAX_ANSWER} bytes")
    return process.returncode, process.stdout, process.stderr[:65536]


class Reader:
    def __init__(self, out, document):
        self.out = out
        self.document = document
        self.lock = None

    def answer(self, header, body=b""):
        self.out.write(json.dumps(header).encode() + b"\n" + body)
        self.out.flush()

    def handle(self, request):
        op = request.get("op") if isinstance(request, dict) else None
        handler = {"lock": self.take_lock, "read": self.read, "run": self.run, "recorded": self.recorded}.get(op)
        if handler is None:
            raise Refused(f"request {str(op)[:40]!r} is not one this program answers")
        handler(request)

    def take_lock(self, request):
        if request.get("mode", "shared") != "shared":
            raise Refused("lock: only a shared lock (reads never change the host)")
        if self.lock is None:
            self.lock = open_lock()
        try:
            fcntl.flock(self.lock, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            log("lock: busy (a run that changes this host holds it)")
            self.answer({"busy": holder()})
            return
        log("lock: shared")
        self.answer({"ok": True})

    def read(self, request):
        script, what = batch(self.document, request)
        log(f"read {len(what)} read-outs: " + "; ".join(what))
        code, stdout, _ = run_shell(script)
        self.answer({"ok": True, "exit": code, "bytes": len(stdout)}, stdout)

    def run(self, request):
        entry = known(self.document, request.get("readout"))
        log(f"run {described(entry)}")
        code, stdout, stderr = run_shell(entry["text"] + "\n")
        self.answer({"ok": True, "exit": code, "bytes": len(stdout) + len(stderr), "stderr_bytes": len(stderr)}, stdout + stderr)

    def recorded(self, request):
        log("recorded: the digests of secret files")
        self.answer({"ok": True, "secrets": self.document.get("secrets", {})})


def open_lock():
    """The lock file in /run/fleetfab, which must be root's alone (0700), as the engine's own session requires."""
    try:
        os.mkdir(LOCK_DIR, 0o700)
    except FileExistsError:
        pass
    st = os.lstat(LOCK_DIR)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != 0 or stat.S_IMODE(st.st_mode) != 0o700:
        raise Refused(f"{LOCK_DIR} is not a folder of root's alone (0700)")
    return open(os.open(LOCK_FILE, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o600), "ab")


def holder():
    try:
        fd = os.open(LOCK_DIR + "/holder", os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, "rb") as handle:
            return handle.read(4096).decode(errors="replace").strip()
    except OSError:
        return ""


def refuse(out, reason):
    log(f"refused: {reason}")
    out.write(json.dumps({"refused": reason}).encode() + b"\n")
    out.flush()


def requests(stream):
    """Each request line; one too long, or not JSON, is a refusal of its own."""
    while True:
        line = stream.readline(MAX_REQUEST + 1)
        if not line:
            return
        if len(line) > MAX_REQUEST:
            yield Refused(f"a request longer than {MAX_REQUEST} bytes")
            while line and not line.endswith(b"\n"):
                line = stream.readline(MAX_REQUEST)
            continue
        if not line.strip():
            continue
        try:
            yield json.loads(line.decode())
        except (ValueError, UnicodeError):
            yield Refused("a request that is not one JSON line")


def main(argv, stdin, stdout):
    if len(argv) > 1:
        refuse(stdout, f"arguments given ({len(argv) - 1}); this program takes none")
        return 2
    asked = os.environ.get("SSH_ORIGINAL_COMMAND")
    if asked is not None and asked != ASKED:
        # sshd forced this program on a key that asked for a command of its own (sudo keeps the variable)
        refuse(stdout, f"the ops key asked to run {asked[:200]!r}; it runs this program alone")
        return 2
    try:
        document = load_manifest()
    except (OSError, ValueError, Refused) as exc:
        refuse(stdout, f"no read-outs installed: {exc}")
        return 3
    reader = Reader(stdout, document)
    for request in requests(stdin):
        try:
            if isinstance(request, Refused):
                raise request
            reader.handle(request)
        except Refused as exc:
            refuse(stdout, str(exc))
        except subprocess.TimeoutExpired:
            refuse(stdout, f"the read-outs ran longer than {TIME_LIMIT} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv, sys.stdin.buffer, sys.stdout.buffer))
