"""One host whose vars are the settings under test, for the validation tests.

The host's vars begin on line 6 of the text, so a problem's line is easy to tell.
"""

from __future__ import annotations

import textwrap

#: the line the first line of `vars` is written on
FIRST_VARS_LINE = 6


def one_host(vars_yaml: str, address: str = "198.18.0.1") -> str:
    body = textwrap.indent(textwrap.dedent(vars_yaml).strip("\n"), " " * 6)
    return f"hosts:\n  a:\n    address: {address}\n    roles: [base]\n    vars:\n{body}\n"
