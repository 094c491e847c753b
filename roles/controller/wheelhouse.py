"""The wheels an ops host installs fleetfab from, built on the operator's machine.

The ops host needs no package index: fleetfab's own wheel and a wheel of
every dependency, at the versions the operator runs, for the ops host's
Python and machine, travel as one tar archive, with the operator's own roles
(the inventory's roles_path folders, `operator-roles/<index>/`) beside them. It is built once per fleetfab
source digest and target and cached in ~/.cache/fleetfab/wheelhouse.
"""

from __future__ import annotations

import hashlib
import importlib.metadata as metadata
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
import urllib.parse
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement

from fleetfab.resources.copied import file_digest
from fleetfab.roles.controller.software import HostPython, role_folder_files, source_roots

#: glibc releases a Debian ops host may have; pip takes the newest wheel any of them accepts
MANYLINUX = [f"manylinux_2_{minor}" for minor in (17, 24, 28, 31, 34, 36, 39, 41)] + ["manylinux2014"]


class WheelhouseError(RuntimeError):
    pass


def cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "fleetfab" / "wheelhouse"


def archive_path(digest: str, python: HostPython) -> Path:
    """Named by the sources and by every pinned dependency: a new pin is a new archive."""
    pins = hashlib.sha256("\n".join(runtime_pins(python)).encode()).hexdigest()[:12]
    return cache_dir() / f"fleetfab-{digest[:16]}-{pins}-py{python.version}-{python.machine}.tar"


def archive_digest(digest: str, python: HostPython) -> str:
    return file_digest(archive_path(digest, python))


def wheelhouse(digest: str, python: HostPython, role_folders=(), packages=()) -> Path:
    """The archive for this fleetfab (and these roles_path folders and role packages: `digest` names them
    too) and this Python: from the cache, else built now."""
    archive = archive_path(digest, python)
    if not archive.exists():
        build(archive, python, role_folders, packages)
    return archive


def local_source(name: str) -> Path | None:
    """The folder a package was installed from (`pip install ./acme-roles`, -e), which no index has; else None."""
    text = metadata.distribution(name).read_text("direct_url.json")
    try:
        found = json.loads(text) if text else {}
    except ValueError:
        return None
    url = found.get("url", "") if isinstance(found, dict) else ""
    if "dir_info" not in found or not url.startswith("file://"):
        return None
    return Path(urllib.parse.unquote(urllib.parse.urlparse(url).path))


def add_role_folders(wheels: Path, role_folders) -> None:
    """The operator's roles beside the wheels, exactly the files the digest names."""
    for name, path in role_folder_files(role_folders):
        target = wheels / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)


def build(archive: Path, python: HostPython, role_folders=(), packages=()) -> None:
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="fleetfab-wheels-") as work:
        wheels = Path(work) / "wheels"
        wheels.mkdir()
        project = copy_sources(Path(work) / "src")
        pip("wheel", "--quiet", "--no-deps", "--wheel-dir", str(wheels), str(project))
        pins = runtime_pins(python, packages)
        built = {}
        for pin in packages:
            source = local_source(pin.partition("==")[0])
            if source is not None:
                pip("wheel", "--quiet", "--no-deps", "--wheel-dir", str(wheels), str(source))
                built[pin] = source
        downloads = [pin for pin in pins if pin not in built]
        pip("download", "--quiet", "--only-binary=:all:", "--dest", str(wheels), *target_options(python), *downloads)
        (wheels / "requirements.txt").write_text("".join(f"{pin}\n" for pin in [f"fleetfab=={version()}", *pins]))
        add_role_folders(wheels, role_folders)
        partial = archive.with_name(archive.name + ".partial")
        with tarfile.open(partial, "w") as tar:
            tar.add(wheels, arcname=".")
        partial.replace(archive)


def copy_sources(target: Path) -> Path:
    """Exactly the files the digest names, plus what building the wheel needs."""
    root = checkout()
    if not (root / "pyproject.toml").exists():
        raise WheelhouseError(f"no fleetfab checkout at {root}: wheels are built from one")
    target.mkdir(parents=True, exist_ok=True)
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy2(root / name, target / name)
    for name, root in source_roots().items():
        shutil.copytree(root, target / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return target


def version() -> str:
    return metadata.version("fleetfab")


def checkout() -> Path:
    return source_roots()["fleetfab"].parent


def declared_requirements() -> list[str]:
    """fleetfab's dependencies as its pyproject.toml says (installed metadata may be older)."""
    with open(checkout() / "pyproject.toml", "rb") as project:
        return tomllib.load(project)["project"]["dependencies"]


def runtime_pins(python: HostPython, packages=()) -> list[str]:
    """fleetfab's dependencies and theirs (and the role packages `packages` and theirs), each at the version
    the operator runs."""
    environment = {**default_environment(), "python_version": python.version, "python_full_version": f"{python.version}.0",
                   "platform_machine": python.machine, "sys_platform": "linux", "platform_system": "Linux",
                   "os_name": "posix", "extra": ""}
    pins, todo = {}, [Requirement(r) for r in [*declared_requirements(), *packages]]
    while todo:
        requirement = todo.pop()
        if requirement.marker and not requirement.marker.evaluate(environment):
            continue
        name = requirement.name.lower().replace("_", "-")
        if name in pins:
            continue
        try:
            pins[name] = f"{name}=={metadata.version(name)}"
        except metadata.PackageNotFoundError:
            raise WheelhouseError(f"{name}, which fleetfab needs, is not installed here (run scripts/setup)") from None
        todo += [Requirement(r) for r in metadata.requires(name) or []]
    return sorted(pins.values())


def target_options(python: HostPython) -> list[str]:
    tag = python.version.replace(".", "")
    platforms = [f"{name}_{python.machine}" for name in MANYLINUX] + ["any"]
    options = ["--python-version", python.version, "--implementation", "cp"]
    for abi in (f"cp{tag}", "abi3", "none"):
        options += ["--abi", abi]
    for platform in platforms:
        options += ["--platform", platform]
    return options


def pip(*args: str) -> None:
    result = subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True, text=True)
    if result.returncode != 0:
        last = (result.stderr.strip() or result.stdout.strip()).splitlines()[-3:]
        raise WheelhouseError(f"pip {args[0]} failed: {' / '.join(last)}")
