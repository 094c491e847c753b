"""'did you mean ...?': the known name closest to a mistyped one.

An unknown role, group, key or host is most often a typo of a known one;
naming the likely intended name saves the operator a trip to the docs.
"""

from __future__ import annotations

import difflib
from typing import Iterable

#: how alike two names must be (difflib's ratio) for one to be suggested for the other
CUTOFF = 0.6


def closest(word, known: Iterable) -> str | None:
    """The known name most like `word`, or None when none is close enough."""
    if not isinstance(word, str):
        return None
    names = [k for k in known if isinstance(k, str)]
    found = difflib.get_close_matches(word, names, n=1, cutoff=CUTOFF)
    if not found:
        # a case slip ('Bind9') is close whatever its ratio says
        found = [k for k in names if k.lower() == word.lower()]
    return found[0] if found else None


def did_you_mean(word, known: Iterable) -> str:
    """' (did you mean 'x'?)' for a close known name, else ''."""
    match = closest(word, known)
    return f" (did you mean {match!r}?)" if match else ""
