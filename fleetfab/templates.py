"""Jinja2 templates: fleetfab's own `templates/<role>/` folder, and a folder role's
`<name>/templates/` beside it (looked up first, so an operator's role names its
templates plainly: `ctx.template("app.service.j2")`).

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
def environment(beside: Path | None = None) -> jinja2.Environment:
    """fleetfab's templates; with `beside`, that folder's first."""
    folders = ([str(beside)] if beside is not None else []) + [str(TEMPLATE_ROOT)]
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(folders),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )


def render(name: str, /, beside: Path | None = None, **values) -> str:
    return environment(beside).get_template(name).render(**values)
