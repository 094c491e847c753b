"""kubeadm, kubelet and kubectl: where they come from, at exactly the pinned version, held.

From the per-minor repository: its signing key in /etc/apt/keyrings, a
deb822 source signed by that key alone, and a pin to the minor. From a
bundle: the operator's .deb files copied to the node and installed from
there. A source the hosts cannot reach (`source.reachable: false`) is
written disabled, so apt never asks it, and the packages are not installed:
every run says so in a note instead of failing.

A node on another version than the inventory pins is drift that bootstrap
does not repair: versions move only through `fab kubernetes.upgrade`, in
kubeadm's order.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fleetfab.resources import Directory, File
from fleetfab.resources.base import REPORT, Change, Resource, lines
from fleetfab.resources.package import APT, REPAIR_DPKG
from fleetfab.shell import cmd, q
from fleetfab.roles.kubernetes.copied import CopiedFile
from fleetfab.roles.kubernetes.versions import Version

PACKAGES = ("kubeadm", "kubelet", "kubectl")
KEYRING_DIR = "/etc/apt/keyrings"
SOURCE_FILE = "/etc/apt/sources.list.d/kubernetes.sources"
PIN_FILE = "/etc/apt/preferences.d/kubernetes"
BUNDLE_DIR = "/var/lib/fleetfab/kubernetes/debs"
ARMOR = b"-----BEGIN PGP PUBLIC KEY BLOCK-----"


def keyring_path(key: Path) -> str:
    """apt tells armored keys from binary ones by the extension."""
    armored = key.read_bytes()[:64].lstrip().startswith(ARMOR)
    return f"{KEYRING_DIR}/kubernetes-apt-keyring.{'asc' if armored else 'gpg'}"


def source_text(url: str, version: Version, keyring: str, enabled: bool) -> str:
    lines_ = ["# Managed by fleetfab (kubernetes role): the packages of one minor version.",
              "Types: deb", f"URIs: {url.replace('{minor}', version.minor_line)}", "Suites: /", f"Signed-By: {keyring}"]
    if not enabled:
        lines_.append("# The inventory says the hosts cannot reach this source (source.reachable: false).")
        lines_.append("Enabled: no")
    return "\n".join(lines_) + "\n"


def pin_text(version: Version) -> str:
    return ("# Managed by fleetfab (kubernetes role): never another minor version.\n"
            f"Package: {' '.join(PACKAGES)}\nPin: version {version.minor_line}.*\nPin-Priority: 1000\n")


def resolve(inventory, path: str) -> Path:
    """A path from the inventory, relative to the inventory's own folder."""
    given = Path(path).expanduser()
    return given if given.is_absolute() else (Path(inventory.path).parent / given).resolve()


def bundle_debs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name.endswith(".deb"))


def source_resources(ctx, version: Version):
    source = ctx.settings["source"]
    if source["kind"] == "bundle":
        yield Directory(BUNDLE_DIR)
        for deb in bundle_debs(resolve(ctx.inventory, source["path"])):
            yield CopiedFile(str(deb), f"{BUNDLE_DIR}/{deb.name}")
        return
    key = resolve(ctx.inventory, source["key"])
    keyring = keyring_path(key)
    yield Directory(KEYRING_DIR)
    yield CopiedFile(str(key), keyring)
    yield File(SOURCE_FILE, source_text(source["url"], version, keyring, available(ctx.settings)))
    yield File(PIN_FILE, pin_text(version))


def available(settings: dict) -> bool:
    source = settings["source"]
    return source["kind"] == "bundle" or source.get("reachable", True)


@dataclass(frozen=True)
class KubePackages(Resource):
    """kubeadm, kubelet and kubectl installed at exactly `version`, and held."""

    version: str
    #: False: the source cannot be reached, so the packages are only reported on
    installable: bool = True
    #: a folder of .deb files on the node (a bundle), or None for the repository
    bundle: str | None = None
    #: why this host's containerd cannot run the pinned minor (versions.containerd_problem), or None
    runtime_problem: str | None = None

    @property
    def key(self) -> str:
        return f"packages {' '.join(PACKAGES)} {self.version} (held)"

    def probe(self) -> str:
        return f"dpkg-query -W -f='${{Package}} ${{db:Status-Status}} ${{db:Status-Want}} ${{Version}}\\n' {cmd(*PACKAGES)} 2>/dev/null || true"

    def _found(self, output: str) -> dict[str, tuple[str, str, str]]:
        found = {}
        for line in lines(output):
            parts = line.split()
            if len(parts) == 4:
                found[parts[0]] = (parts[1], parts[2], parts[3])
        return found

    def _state(self, output: str) -> tuple[list[str], list[str], list[str]]:
        """(missing, on another version, not held)."""
        found = self._found(output)
        missing = [p for p in PACKAGES if found.get(p, ("",))[0] != "installed"]
        other = [p for p in PACKAGES if p not in missing and not _same_version(found[p][2], self.version)]
        unheld = [p for p in PACKAGES if p not in missing and found[p][1] != "hold"]
        return missing, other, unheld

    def compare(self, output: str) -> Change | None:
        missing, other, unheld = self._state(output)
        if other:
            found = self._found(output)
            versions = ", ".join(f"{p} {found[p][2]}" for p in other)
            # Expected between the inventory's new pin and the upgrade: drift says so, bootstrap only notes it.
            return self.change(REPORT, f"{versions}, the inventory pins {self.version}: "
                               "`fab kubernetes.upgrade` moves the cluster to it, one node at a time")
        if missing and self.installable and self.runtime_problem:
            return self.change(REPORT, f"{' '.join(missing)} not installed: {self.runtime_problem}")
        if missing and self.installable:
            return self.change("install", f"install {' '.join(missing)} {self.version} and hold them", data=tuple(missing))
        if unheld:
            return self.change("hold", f"hold {' '.join(unheld)}", data=tuple(unheld))
        return None

    def note(self, output: str) -> str | None:
        missing, _, _ = self._state(output)
        if missing and not self.installable:
            told = (f"{' '.join(missing)} not installed: the package source is unreachable from this host "
                    "(source.reachable: false); source, key and pin are written, holds follow the install")
            return told + (f"; and even so, {self.runtime_problem}" if self.runtime_problem else "")
        if not missing and self.runtime_problem:
            return self.runtime_problem
        return None

    def fix(self, change: Change) -> str:
        if change.action == REPORT:
            return f"echo {q(change.summary)} >&2\nexit 3\n"
        if change.action == "hold":
            return f"set -e\napt-mark hold {cmd(*change.data)} >/dev/null\n"
        return f"set -e\n{REPAIR_DPKG}{install_script(self.version, change.data, self.bundle)}"


def _same_version(installed: str, pinned: str) -> bool:
    """A package version such as 1.35.9-1.1 against the pin; one fleetfab cannot read is not the pin."""
    try:
        return Version.parse(installed) == Version.parse(pinned)
    except ValueError:
        return False


#: apt with no package source at all: only the given .deb files and what is installed count, so an
#: air-gapped install never reaches for a network, and a dependency the bundle lacks is named at once
#: (apt's --no-download refuses local .deb files: "Pathname to install is not absolute")
NO_SOURCES = "-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts=/nonexistent"


def bundle_install(version: Version, names, bundle: str) -> str:
    """The named packages at exactly `version` from the bundle, with every other .deb of it (their
    dependencies: kubernetes-cni, cri-tools, and Debian's that the hosts lack), and no source:
    apt resolves among those files and what is installed."""
    b = q(bundle)
    pick = "".join(f"set -- {b}/{q(n)}_{q(str(version))}-*.deb\n"
                   f"[ -e \"$1\" ] || {{ echo {q(f'the bundle has no {n} {version}')} >&2; exit 3; }}\n"
                   "wanted=\"$wanted $1\"\n" for n in names)
    others = (f"for deb in {b}/*.deb; do case \"${{deb##*/}}\" in kubeadm_*|kubelet_*|kubectl_*) ;; "
              "*) wanted=\"$wanted $deb\" ;; esac; done\n")
    return f"wanted=''\n{pick}{others}{APT} {NO_SOURCES} install --no-install-recommends $wanted\n"


def install_script(version: str, names, bundle: str | None) -> str:
    """Unhold, install exactly `version`, hold again: the only way versions move."""
    v = Version.parse(version)
    if bundle:
        install = bundle_install(v, names, bundle)
    else:
        install = f"apt-get -q update && {APT} install --no-install-recommends --allow-change-held-packages " + \
            " ".join(q(f"{n}={v.package_glob}") for n in names) + "\n"
    return f"apt-mark unhold {cmd(*names)} >/dev/null 2>&1 || true\n{install}apt-mark hold {cmd(*names)} >/dev/null\n"


@dataclass(frozen=True)
class PackageSource:
    """Where an upgrade's node gets the target minor's packages: the per-minor repository or the bundle."""

    kind: str
    url: str = ""
    keyring: str = ""
    enabled: bool = True

    @property
    def bundle(self) -> str | None:
        return BUNDLE_DIR if self.kind == "bundle" else None

    def switch_script(self, version: Version) -> str:
        """The source and the pin rewritten for `version`'s minor (pkgs have one repository per minor),
        exactly as the role renders them, before apt-get update; nothing for a bundle."""
        if self.kind == "bundle":
            return ""
        return (write_script(SOURCE_FILE, source_text(self.url, version, self.keyring, self.enabled))
                + write_script(PIN_FILE, pin_text(version)))


def write_script(path: str, text: str) -> str:
    """A root-owned file replaced whole (a temporary file beside it, then renamed)."""
    p = q(path)
    return (f"tmp=$(mktemp {p}.XXXXXX)\nprintf '%s' {q(text)} > \"$tmp\"\nchmod 644 \"$tmp\"\n"
            f"mv -f \"$tmp\" {p}\n")


def package_source(inventory, settings: dict) -> PackageSource:
    source = settings["source"]
    if source["kind"] == "bundle":
        return PackageSource("bundle")
    keyring = keyring_path(resolve(inventory, source["key"]))
    return PackageSource("repository", source["url"], keyring, available(settings))
