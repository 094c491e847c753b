"""fleetfab as an operator gets it: a wheel built from this checkout, installed into a fresh
virtualenv outside the clone (tests/firstcontact, tests/operator).

The dependencies come from a local wheel cache, filled once per set of
pinned versions (~/.cache/fleetfab/firstcontact/), so an install runs
offline after the first.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def checked(*args, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(list(map(str, args)), capture_output=True, text=True, timeout=600, **kwargs)
    assert done.returncode == 0, f"{' '.join(map(str, args))}: {done.stdout}{done.stderr}"
    return done


def dependency_pins() -> list[str]:
    from fleetfab.roles.controller.software import HostPython
    from fleetfab.roles.controller.wheelhouse import runtime_pins

    python = HostPython(f"{sys.version_info.major}.{sys.version_info.minor}", platform.machine())
    return runtime_pins(python)


def dependency_wheels() -> Path:
    """fleetfab's dependencies as wheels, at the versions this checkout runs: downloaded once, then reused."""
    pins = dependency_pins()
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "fleetfab" / "firstcontact"
    folder = cache / hashlib.sha256("\n".join(pins).encode()).hexdigest()[:16]
    if not (folder / "complete").exists():
        checked(sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:", "--dest", str(folder), *pins)
        (folder / "complete").write_text("\n".join(pins) + "\n")
    return folder


def install_from_wheel(work: Path) -> Path:
    """A fresh virtualenv in `work` (outside the clone) with fleetfab from this checkout's wheel: its bin folder."""
    assert ROOT not in work.resolve().parents, f"{work} is inside the clone"
    # built from a copy: setuptools leaves a build/ folder beside the sources it builds
    from fleetfab.roles.controller.wheelhouse import copy_sources

    sources = copy_sources(work / "src")
    checked(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(work / "wheel"), str(sources))
    python = shutil.which("python3") or sys.executable
    checked(python, "-m", "venv", str(work / "venv"))
    checked(work / "venv" / "bin" / "pip", "install", "--quiet", "--no-index", "--find-links", str(dependency_wheels()),
            "--find-links", str(work / "wheel"), "fleetfab")
    return work / "venv" / "bin"


def clean_environment() -> dict:
    """The environment without anything pointing back at the clone or its virtualenv."""
    return {k: v for k, v in os.environ.items() if k not in ("FLEETFAB_INVENTORY", "VIRTUAL_ENV", "PYTHONPATH")}
