"""Text from hosts, made safe to show: control characters written out, never sent raw.

A managed host's answers are untrusted. A file, a command's error or a
journal line can carry terminal escapes (a clipboard write, a screen clear,
a forged line in a log), so wherever such text reaches a terminal, a log or
the journal it goes through `printable`. JSON may carry the raw string (its
encoder escapes control characters itself).

The function is idempotent (a backslash is left as it is), so text that
passes two boundaries is not escaped twice.
"""

from __future__ import annotations

import re

#: C0 and C1 controls, DEL, and the bidirectional overrides that reorder what a terminal shows
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _written_out(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str, keep: str = "\n\t") -> str:
    """`text` with every control character but those in `keep` written as `\\x1b`, `\\u202e` ...

    The default keeps a diff's or a listing's lines and tabs; `one_line`
    keeps nothing, for a value shown on one line.
    """
    if not text:
        return text
    return _UNSAFE.sub(lambda m: m.group() if m.group() in keep else _written_out(m), text)


def one_line(text: str) -> str:
    """`text` for a single line of output (an error, a note, a table cell): newlines written out too."""
    return printable(text, keep="")
