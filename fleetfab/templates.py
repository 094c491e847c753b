"""Jinja2 templates from the project's `templates/` folder.

StrictUndefined turns a misspelt variable into an error instead of an empty
string in a configuration file.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import jinja2

TEMPLATE_ROOT = Path(__file__).resolve().parent.parent / "templates"


@cache
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_ROOT)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )


def render(name: str, **values) -> str:
    return environment().get_template(name).render(**values)
