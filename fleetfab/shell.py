"""Shell quoting: the one way any value reaches a remote command line."""

from __future__ import annotations

import shlex


def q(value) -> str:
    return shlex.quote(str(value))


def cmd(*args) -> str:
    """A command line with every argument quoted."""
    return " ".join(q(a) for a in args)


def heredoc(text: str, tag: str = "FLEETFAB_EOF") -> str:
    """A quoted here-document body: nothing inside is expanded by the shell."""
    if f"\n{tag}\n" in f"\n{text}\n":
        raise ValueError(f"text contains the here-document tag {tag}")
    return f"<<'{tag}'\n{text}\n{tag}"
