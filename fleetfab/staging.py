"""Where files sent to a host wait, checked, before they are installed.

Never /var/tmp or /tmp: a name there that anyone can compute can be taken
first by another account, whose file root then writes into and which that
account can still change after its checksum was checked. Each upload gets a
fresh directory of its own, made by root with `mkdir` (which fails on any
existing name) inside STAGING_ROOT, a folder only root can enter; its name
carries a token this run drew at random. The file is received there, checked
there, given its owner and mode there, and only then moved into place.
"""

from __future__ import annotations

import hashlib
import secrets

from fleetfab.shell import q

#: root's own (0700); not under /var/lib/fleetfab, which is the drift account's home
STAGING_ROOT = "/var/lib/fleetfab-staging"
#: drawn once per engine process: the uploads of a run and its fixes agree on it, nobody else knows it
RUN_TOKEN = secrets.token_hex(8)
#: staging folders left by runs that were cut off are removed after this many minutes
STALE_MINUTES = 24 * 60


def staged_path(path: str, digest: str) -> str:
    """Per run, destination and content: two copies never share a staging folder."""
    where = hashlib.sha256(path.encode()).hexdigest()[:12]
    return f"{STAGING_ROOT}/{RUN_TOKEN}.{where}.{digest[:32]}/{path.rstrip('/').rpartition('/')[2] or 'file'}"


def folder_of(staged: str) -> str:
    return staged.rpartition("/")[0]


def root_only_check(folder: str) -> str:
    """Shell that fails unless `folder` is a directory (not a link) of root's, mode 0700."""
    f = q(folder)
    return (f"if [ -L {f} ] || [ \"$(stat -c '%u %a %F' -- {f})\" != '0 700 directory' ]; then "
            f"echo {q(f'refusing to stage in {folder}: it is not a folder of root alone')} >&2; exit 1; fi")


def receive_command(staged: str) -> str:
    """A command that writes its standard input to `staged` in a fresh root-only folder."""
    folder = folder_of(staged)
    root = q(STAGING_ROOT)
    return " && ".join([
        "umask 077",
        f"mkdir -p -m 700 {root}",
        root_only_check(STAGING_ROOT),
        f"find {root} -mindepth 1 -maxdepth 1 -mmin +{STALE_MINUTES} -exec rm -rf -- {{}} +",
        f"rm -rf -- {q(folder)}",
        f"mkdir -m 700 -- {q(folder)}",
        f"cat > {q(staged)}",
    ])
