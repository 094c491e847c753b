"""Where the lab keeps its files: one place, so every part agrees."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class LabPaths:
    """The repository's lab files; `.lab/` is the gitignored working folder."""

    root: Path = REPO_ROOT

    @property
    def work(self) -> Path:
        return self.root / ".lab"

    @property
    def key(self) -> Path:
        return self.work / "id_ed25519"

    @property
    def known_hosts(self) -> Path:
        return self.work / "known_hosts"

    @property
    def ssh_config(self) -> Path:
        return self.work / "ssh_config"

    @property
    def box_cache(self) -> Path:
        return self.work / "box"

    @property
    def vagrant_dir(self) -> Path:
        return self.root / "vagrant"

    @property
    def box_recipe(self) -> Path:
        return self.vagrant_dir / "box"

    @property
    def venv_python(self) -> Path:
        return self.root / ".venv" / "bin" / "python"


def inventory_path(given: str | os.PathLike | None = None, root: Path = REPO_ROOT) -> Path:
    """The inventory to use: the one given, else FLEETFAB_INVENTORY, else the lab's.

    A relative path is taken from the repository root, so the Vagrantfile and
    the tasks agree whatever folder they run from.
    """
    chosen = Path(given or os.environ.get("FLEETFAB_INVENTORY") or "inventory/lab.yml")
    return chosen if chosen.is_absolute() else root / chosen
