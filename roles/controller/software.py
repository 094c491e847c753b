"""fleetfab itself on the ops host: a virtualenv from wheels built on the operator's machine.

What is installed is named by a digest of fleetfab's own sources (the engine,
the roles, the templates) and of the operator's own roles (every file of the
inventory's roles_path folders, which travel in the same archive and live in
the virtualenv, `operator-roles/<index>/`), computed the same way from a
checkout and from an installed wheel. So the operator's machine and the ops host agree on whether
the ops host runs this fleetfab without either of them building anything, and
a drift never builds wheels: only a change does (`uploads`).

Each install is a new virtualenv beside the last, made live by swapping the
`venv` symlink, so a scheduled check that is running keeps its files and a
failed install leaves the old one in use.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from fleetfab.resources import Change, Resource
from fleetfab.resources.copied import Upload, install_staged
from fleetfab.staging import staged_path
from fleetfab.shell import q

STAMP = "fleetfab.digest"
#: where the operator's roles_path folders live inside an installed virtualenv, one numbered folder each
OPERATOR_ROLES = "operator-roles"


def source_roots() -> dict[str, Path]:
    import fleetfab
    import fleetfab.roles as roles
    from fleetfab.templates import TEMPLATE_ROOT

    return {"fleetfab": Path(fleetfab.__file__).parent, "roles": Path(roles.__file__).parent, "templates": TEMPLATE_ROOT}


def source_files(roots: dict[str, Path]) -> list[tuple[str, Path]]:
    """(name in the digest, file): Python sources of the packages, every template.

    Installed, the roles are inside fleetfab's package (fleetfab/roles/); in a
    checkout they are beside it (roles/): each file is named by its own root
    only, so both give the same names."""
    found = []
    for name, root in sorted(roots.items()):
        pattern = "*" if name == "templates" else "*.py"
        nested = [other for other in roots.values() if other != root and other.is_relative_to(root)]
        for path in sorted(root.rglob(pattern)):
            if path.is_file() and "__pycache__" not in path.parts and not any(path.is_relative_to(n) for n in nested):
                found.append((f"{name}/{path.relative_to(root).as_posix()}", path))
    return found


def role_folder_files(folders) -> list[tuple[str, Path]]:
    """(name in the digest and the archive, file) of every file of the roles_path folders, in their order:
    a role may ship its application's code or data beside it. Caches and hidden files are left out."""
    found = []
    for index, folder in enumerate(folders):
        folder = Path(folder)
        for path in sorted(folder.rglob("*")):
            relative = path.relative_to(folder)
            if (path.is_file() and "__pycache__" not in relative.parts and path.suffix != ".pyc"
                    and not any(part.startswith(".") for part in relative.parts)):
                found.append((f"{OPERATOR_ROLES}/{index}/{relative.as_posix()}", path))
    return found


def source_digest(folders=(), packages=()) -> str:
    """fleetfab's sources, the operator's roles_path folders (each named, even empty) with their files, and
    the installed packages (name==version) whose roles the fleet uses."""
    if not folders and not packages:
        return fleetfab_digest()
    sha = hashlib.sha256(fleetfab_digest().encode())
    sha.update("".join(f"{OPERATOR_ROLES}/{index}/\n" for index in range(len(folders))).encode())
    sha.update(_digest(tuple(role_folder_files(folders))).encode())
    sha.update("".join(f"{pin}\n" for pin in packages).encode())
    return sha.hexdigest()


def role_packages(inventory) -> tuple[str, ...]:
    """`name==version` of each installed package (not fleetfab) declaring a role the inventory's hosts carry."""
    import importlib.metadata as metadata

    used = {role for host in inventory.hosts.values() for role in host.roles}
    names = {found.package for name, found in inventory.found.items() if name in used and getattr(found, "package", None)}
    return tuple(sorted(f"{canonical(name)}=={metadata.version(name)}" for name in names))


def canonical(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


@cache
def fleetfab_digest() -> str:
    return _digest(tuple(source_files(source_roots())))


def _digest(files: tuple[tuple[str, Path], ...]) -> str:
    sha = hashlib.sha256()
    for name, path in files:
        sha.update(name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return sha.hexdigest()


def installed_roles_path(venv: str, count: int) -> list[str]:
    """The ops host's roles_path: its copies of the operator's folders, in the same order."""
    return [f"{venv}/{OPERATOR_ROLES}/{index}" for index in range(count)]


def fleetfab_installed(inventory, venv: str, **options) -> "FleetfabInstalled":
    """fleetfab at `venv`, carrying the inventory's own roles: its roles_path folders and the packages of the
    installed roles its hosts carry."""
    folders = tuple(str(folder) for folder in inventory.roles_path)
    packages = role_packages(inventory)
    return FleetfabInstalled(venv, source_digest(folders, packages), role_folders=folders, packages=packages, **options)


@dataclass(frozen=True)
class HostPython:
    """The ops host's Python, which the wheels are chosen for."""

    version: str
    machine: str


@dataclass(frozen=True)
class FleetfabInstalled(Resource):
    """The virtualenv at `venv` runs the fleetfab whose sources hash to `digest`."""

    venv: str
    digest: str
    #: the operator's roles_path folders (on this machine), carried in the same archive
    role_folders: tuple[str, ...] = ()
    #: installed packages (name==version) of roles the fleet uses, installed beside fleetfab
    packages: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"fleetfab {self.venv}"

    @property
    def releases(self) -> str:
        return str(Path(self.venv).parent)

    def probe(self) -> str:
        return (f"cat {q(self.venv)}/{STAMP} 2>/dev/null || echo '@absent'; "
                "python3 -c 'import platform, sys; print(\"%d.%d\" % sys.version_info[:2], platform.machine())' "
                "2>/dev/null || echo '@nopython'")

    def compare(self, output: str) -> Change | None:
        found = output.splitlines() + ["", ""]
        if found[0].strip() == self.digest:
            return None
        python = found[1].split()
        data = (HostPython(python[0], python[1]),) if len(python) == 2 else ()
        if found[0].strip() == "@absent":
            return self.change("install", f"install fleetfab {self.digest[:12]} into {self.venv}", data=data)
        return self.change("update", f"fleetfab {found[0].strip()[:12]} -> {self.digest[:12]}", data=data)

    def uploads(self, change: Change) -> tuple[Upload, ...]:
        from fleetfab.roles.controller.wheelhouse import wheelhouse

        if not change.data:
            raise RuntimeError("the ops host had no python3 when it was read; run bootstrap again")
        return (Upload(wheelhouse(self.digest, change.data[0], self.role_folders, self.packages), self.staged),)

    @property
    def staged(self) -> str:
        """In a fresh folder of root's alone: another account on the ops host
        could otherwise change the wheels between their check and pip."""
        return staged_path(self.tarball, self.digest)

    @property
    def tarball(self) -> str:
        return f"{self.releases}/wheelhouse-{self.digest[:16]}.tar"

    def fix(self, change: Change) -> str:
        from fleetfab.roles.controller.wheelhouse import archive_digest

        python = change.data[0]
        release = f"{self.releases}/venv-{self.digest[:16]}"
        tarball = self.tarball
        verify = install_staged(self.staged, archive_digest(self.digest, python), tarball, "root", "root", "0600")
        return verify + "\n".join([
            f"rm -rf {q(release)} {q(release)}.wheels",
            f"mkdir -m 700 -p {q(release)}.wheels",
            # the archive's owners are the operator's machine's: root keeps the wheels its own
            f"tar --no-same-owner --no-same-permissions -xf {q(tarball)} -C {q(release)}.wheels",
            f"python3 -m venv {q(release)}",
            f"{q(release)}/bin/pip install --quiet --no-index --find-links {q(release)}.wheels "
            f"-r {q(release)}.wheels/requirements.txt",
            # the operator's roles, in the virtualenv whose digest names them
            f"if [ -d {q(release)}.wheels/{OPERATOR_ROLES} ]; then mv {q(release)}.wheels/{OPERATOR_ROLES} {q(release)}/{OPERATOR_ROLES}; fi",
            *[f"mkdir -p {q(folder)}" for folder in installed_roles_path(release, len(self.role_folders))],
            f"echo {self.digest} > {q(release)}/{STAMP}",
            f"previous=$(readlink {q(self.venv)} || true)",
            # the swap: a new symlink renamed over the old one
            f"ln -sfn {q(Path(release).name)} {q(self.venv)}.new && mv -Tf {q(self.venv)}.new {q(self.venv)}",
            f"rm -rf {q(release)}.wheels {q(tarball)}",
            # the one before stays, for a check still running from it
            f"for old in {q(self.releases)}/venv-*; do case \"${{old##*/}}\" in {q(Path(release).name)}|\"$previous\") ;; *) rm -rf \"$old\";; esac; done",
        ]) + "\n"
