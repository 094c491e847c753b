"""Password hashes for the inventory, made on the operator's machine.

The password is read from the terminal without echo, hashed by OpenSSL
(SHA512-CRYPT, which Dovecot verifies natively), and only the hash is
printed: the clear text never reaches a file, an argument list or a log.
"""

from __future__ import annotations

import getpass
import subprocess
import sys

from roles.mail.settings import hash_problem

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


def hash_from_terminal(ask=getpass.getpass) -> int:
    first = ask("password: ")
    if not first:
        print("an empty password cannot log in; nothing printed", file=sys.stderr)
        return 1
    if ask("again: ") != first:
        print("the two passwords differ; nothing printed", file=sys.stderr)
        return 1
    print(hash_password(first))
    return 0
