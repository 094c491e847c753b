"""Jinja2 templates from the project's `templates/` folder.

StrictUndefined turns a misspelt variable into an error instead of an empty
string in a configuration file.
"""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

import jinja2


def template_root() -> Path:
    """The checkout's templates/, or where the wheel installs them (an ops host's virtualenv)."""
    beside = Path(__file__).resolve().parent.parent / "templates"
    return beside if beside.is_dir() else Path(sys.prefix) / "share" / "fleetfab" / "templates"


TEMPLATE_ROOT = template_root()


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


def render(name: str, /, **values) -> str:
    return environment().get_template(name).render(**values)
