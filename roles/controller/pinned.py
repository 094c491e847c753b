"""sudo for the drift account: fleetfab's read program, pinned by its digest, and nothing else.

sudo hashes the program before it runs it and refuses one whose sha256 is
not the rule's, so a program changed or replaced at the same path does not
run; `""` forbids arguments. The account's other sudo rights are none.

The rule is written to two files, one before the program is installed and
one after, so a bootstrap that brings a new program never leaves a moment
when no rule names the program in place: the first file names the new
digest while the second still names the old, the program is replaced in one
rename between them, and then the second names the new digest too. A drift
check from the ops host running meanwhile is never refused. At rest both
files hold the same rule. visudo checks each before it is moved into place.

sudo keeps SSH_ORIGINAL_COMMAND (what the ops key's client asked to run,
which sshd replaced by the forced command) for the program, which logs it
when it refuses it. The account has no password: sudo does not ask for one,
so it refuses any other command at once and logs it ("command not allowed"),
where `sudo -n` would end at "a password is required" and log nothing.
"""

from __future__ import annotations

from fleetfab.resources import File
from fleetfab.roles.controller.settings import ACCOUNT, SUDOERS

#: the second file, written after the program (sudo reads every file there without a dot in its name)
SUDOERS_INSTALLED = f"{SUDOERS}-installed"
VALIDATE = "visudo -cf %s"
HEADER = "# Managed by fleetfab: the ops host's drift account runs fleetfab's read program as root, and nothing else.\n"
DEFAULTS = f'Defaults:{ACCOUNT} env_keep += "SSH_ORIGINAL_COMMAND", !authenticate\n'


def sudo_rule(digest: str, program: str) -> str:
    """The one command the account may run: `program` with this sha256, without arguments."""
    return f'{ACCOUNT} ALL=(root) NOPASSWD: sha256:{digest} {program} ""'


def before_program(digest: str, program: str) -> File:
    text = (HEADER + f"# Written before the program; {SUDOERS_INSTALLED} is written after it.\n"
            + DEFAULTS + sudo_rule(digest, program) + "\n")
    return File(SUDOERS, text, mode="0440", validate=VALIDATE)


def after_program(digest: str, program: str) -> File:
    text = (HEADER + f"# Written after the program: while it is replaced, {SUDOERS} or this file names its digest.\n"
            + sudo_rule(digest, program) + "\n")
    return File(SUDOERS_INSTALLED, text, mode="0440", validate=VALIDATE)


def pinned_program(digest: str, program: str, install: list) -> list:
    """The resources that install the program (`install`), between the two rules that pin it."""
    return [before_program(digest, program), *install, after_program(digest, program)]
