"""Password hashes for the inventory, made on the operator's machine.

The password is read from the terminal without echo (or, with --stdin, from
standard input's first line), hashed by OpenSSL
(SHA512-CRYPT, which Dovecot verifies natively), and only the hash is
printed: the clear text never reaches a file, an argument list or a log.
"""

from __future__ import annotations

import getpass
import subprocess
import sys

from fleetfab.roles.mail.settings import hash_problem

SCHEME = "SHA512-CRYPT"


def hash_password(password: str) -> str:
    """`{SHA512-CRYPT}$6$...` for `password`, the password passed on standard input."""
    done = subprocess.run(["openssl", "passwd", "-6", "-stdin"], input=password + "\n", capture_output=True,
                          text=True, check=True)
    hashed = f"{{{SCHEME}}}{done.stdout.strip()}"
    problem = hash_problem(hashed)
    if problem:
        raise RuntimeError(f"openssl gave an unexpected hash: {problem}")
    return hashed


def hash_from_stdin(stream=None) -> int:
    """The hash of the first line of standard input (`--stdin`: a password manager's output piped in)."""
    line = (stream or sys.stdin).readline()
    password = line[:-1] if line.endswith("\n") else line
    if not password:
        print("standard input held no password (an empty first line); nothing printed", file=sys.stderr)
        return 1
    print(hash_password(password))
    return 0


def hash_from_terminal(ask=getpass.getpass, terminal=None) -> int:
    """The hash of a password typed twice without echo; without a terminal, the operator is
    pointed at --stdin (getpass would warn and echo the password)."""
    if not (terminal if terminal is not None else sys.stdin.isatty()):
        print("standard input is not a terminal, so the password would be echoed: "
              "use `fab mail.hash-password --stdin` to read it from a pipe; nothing printed", file=sys.stderr)
        return 1
    first = ask("password: ")
    if not first:
        print("an empty password cannot log in; nothing printed", file=sys.stderr)
        return 1
    if ask("again: ") != first:
        print("the two passwords differ; nothing printed", file=sys.stderr)
        return 1
    print(hash_password(first))
    return 0
