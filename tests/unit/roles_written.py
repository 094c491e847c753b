"""Operator roles written into a test's own folder, as an operator's repository holds them.

`notes` is a package role using every hook a role has: its settings schema in
a module of its own (imported relatively), a template beside it, a `prepare`
step, an export every member reads, a handler, and an `after_bootstrap` that
runs its own step through fleetfab.procedure. It works only under the `root`
folder each host is given, so it can converge on this very machine.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

NOTES_INIT = '''
"""Notes: a file naming every member, from a template beside the role."""

from fleetfab.resources import Command, Directory, File
from fleetfab.role import Export, Role

from .settings import DEFAULTS, SETTINGS


class Notes(Role):
    name = "notes"
    settings = SETTINGS
    defaults = DEFAULTS

    def prepare(self, ctx):
        root = ctx.settings["root"]
        yield Command("make identity", run=f"mkdir -p {root} && echo notes-{ctx.host.name} > {root}/identity",
                      creates=f"{root}/identity")

    def exports(self, ctx):
        return {"identity": Export(f"cat {ctx.settings['root']}/identity")}

    def resources(self, ctx):
        root = ctx.settings["root"]
        peers = sorted(ctx.export(h.name, "identity") for h in ctx.members())
        yield Directory(f"{root}/etc")
        yield File(f"{root}/etc/notes.conf", ctx.template("notes.conf.j2", peers=peers), notify="reload notes")

    def handlers(self, ctx):
        return {"reload notes": f"echo reloaded >> {ctx.settings['root']}/handler.log"}

    def after_bootstrap(self, inventory, hosts):
        members = [h.name for h in hosts if h.has_role(self.name)]
        if not members:
            return None

        def finish():
            from fleetfab.procedure import Procedure

            proc = Procedure(",".join(members), "notes.finish")
            return proc.step({self.name: Finishing()})

        return finish


class Finishing(Notes):
    """The notes role while a bootstrap finishes: one mark per host, once (its name is inherited:
    the registry counts only the class that sets it)."""

    def resources(self, ctx):
        root = ctx.settings["root"]
        yield Command("mark finished", run=f"echo finished > {root}/finished", creates=f"{root}/finished")
'''

NOTES_SETTINGS = '''
from fleetfab.schema import Field, Int, Record, Str

SETTINGS = Record({
    "root": Field(Str(), required=True, doc="the folder the notes live in"),
    "title": Field(Str(), doc="the first line's title"),
    "size": Field(Int(1, 100), doc="how many notes are kept"),
})
DEFAULTS = {"title": "notes", "size": 10}
'''

NOTES_TEMPLATE = """\
# {{ settings.title }} on {{ host.name }}
{% for peer in peers %}
peer {{ peer }}
{% endfor %}
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def write_notes_role(folder: Path) -> Path:
    """The `notes` package role in `folder` (a roles_path folder); its __init__.py."""
    write(folder / "notes" / "settings.py", NOTES_SETTINGS)
    write(folder / "notes" / "templates" / "notes.conf.j2", NOTES_TEMPLATE)
    return write(folder / "notes" / "__init__.py", NOTES_INIT)


def write_module_role(folder: Path, name: str, body: str = "", cls: str | None = None) -> Path:
    """A one-file role `<folder>/<name>.py` whose class is called `cls` and named `name`."""
    cls = cls or name.title().replace("_", "")
    text = f"from fleetfab.role import Role\n\n\nclass {cls}(Role):\n    name = {name!r}\n"
    return write(folder / f"{name}.py", text + textwrap.indent(textwrap.dedent(body), "    "))


def installed_package(site: Path, entry: str, module: str, body: str, requires: tuple[str, ...] = (),
                      direct_url: str | None = None) -> None:
    """A distribution `acme-roles` 1.0 installed in `site`, declaring one role entry point."""
    write(site / "acme_roles" / "__init__.py", "")
    write(site / "acme_roles" / f"{module}.py", body)
    dist = site / "acme_roles-1.0.dist-info"
    write(dist / "METADATA", "Metadata-Version: 2.1\nName: acme-roles\nVersion: 1.0\n"
          + "".join(f"Requires-Dist: {r}\n" for r in requires))
    write(dist / "entry_points.txt", f"[fleetfab.roles]\n{entry}\n")
    if direct_url is not None:
        write(dist / "direct_url.json", direct_url)


@pytest.fixture
def site(tmp_path, monkeypatch):
    """A folder on sys.path, as site-packages is; the registry reads the entry points again."""
    from fleetfab import registry

    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    registry.installed.cache_clear()
    yield folder
    for name in [m for m in sys.modules if m == "acme_roles" or m.startswith("acme_roles.")]:
        del sys.modules[name]
    registry.installed.cache_clear()
