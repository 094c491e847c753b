"""Read the Debian mirror off the host's own apt sources.

The project never names a mirror: the lab box is built from whatever mirror
this machine already uses, in either apt source format.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Source:
    uri: str
    suites: tuple[str, ...]


class MirrorNotFound(LookupError):
    """No apt source of this host serves the wanted suite."""


def parse_one_line(text: str) -> list[Source]:
    """Sources from the one-line format: `deb [opts] URI SUITE COMPONENT...`."""
    sources = []
    for raw in text.splitlines():
        words = raw.split("#", 1)[0].split()
        if not words or words[0] != "deb":
            continue
        words = words[1:]
        if words and words[0].startswith("["):
            while words and not words[0].endswith("]"):
                words = words[1:]
            words = words[1:]
        if len(words) >= 2:
            sources.append(Source(words[0], (words[1],)))
    return sources


def _stanzas(text: str) -> list[dict[str, str]]:
    stanzas, current, key = [], {}, None
    for raw in text.splitlines() + [""]:
        if raw.startswith("#"):
            continue
        if not raw.strip():
            if current:
                stanzas.append(current)
            current, key = {}, None
        elif raw[0] in " \t" and key:
            current[key] += " " + raw.strip()
        elif ":" in raw:
            key, value = raw.split(":", 1)
            key = key.strip().lower()
            current[key] = value.strip()
    return stanzas


def parse_deb822(text: str) -> list[Source]:
    """Sources from the deb822 format (`Types:`, `URIs:`, `Suites:` stanzas)."""
    sources = []
    for stanza in _stanzas(text):
        if "deb" not in stanza.get("types", "").split():
            continue
        if stanza.get("enabled", "yes").lower() == "no":
            continue
        suites = tuple(stanza.get("suites", "").split())
        sources += [Source(uri, suites) for uri in stanza.get("uris", "").split()]
    return sources


def mirror_for(sources: list[Source], suite: str) -> str:
    """The first source's URI that serves `suite` itself (not -updates or -security)."""
    for source in sources:
        if suite in source.suites:
            return source.uri
    raise MirrorNotFound(f"no apt source of this host serves suite {suite!r}")


def source_files(etc_apt: Path = Path("/etc/apt")) -> list[Path]:
    """The source files apt itself reads, in apt's order."""
    main = etc_apt / "sources.list"
    extra = sorted(
        p for p in (etc_apt / "sources.list.d").glob("*")
        if p.suffix in (".list", ".sources")
    )
    return ([main] if main.is_file() else []) + extra


def host_sources(etc_apt: Path = Path("/etc/apt")) -> list[Source]:
    sources = []
    for path in source_files(etc_apt):
        parse = parse_deb822 if path.suffix == ".sources" else parse_one_line
        sources += parse(path.read_text())
    return sources


def host_mirror(suite: str, etc_apt: Path = Path("/etc/apt")) -> str:
    return mirror_for(host_sources(etc_apt), suite)


def serves_suite(source: Source, suite: str) -> bool:
    """True for the suite itself and its companions (-updates, -security)."""
    return any(s == suite or s.startswith(suite + "-") for s in source.suites)


def suite_source_files(suite: str, etc_apt: Path = Path("/etc/apt")) -> list[Path]:
    """The host's source files that serve `suite`: what a lab machine can use.

    Third-party sources are left out; their keyrings are not in the image.
    """
    chosen = []
    for path in source_files(etc_apt):
        parse = parse_deb822 if path.suffix == ".sources" else parse_one_line
        if any(serves_suite(s, suite) for s in parse(path.read_text())):
            chosen.append(path)
    return chosen


# apt settings that decide whether apt reaches the mirror at all.
REACH_SETTINGS = ("acquire::http", "acquire::https", "acquire::ftp", "proxy",
                  "check-valid-until", "check-date")


def reaches_mirror(conf_text: str) -> bool:
    """True when an apt.conf snippet holds proxy or release-validity settings."""
    text = conf_text.lower()
    return any(key in text for key in REACH_SETTINGS)


def acquire_conf_files(etc_apt: Path = Path("/etc/apt")) -> list[Path]:
    """apt.conf.d files a lab machine needs to reach the host's mirror the same way."""
    folder = etc_apt / "apt.conf.d"
    return sorted(p for p in folder.glob("*") if p.is_file() and reaches_mirror(p.read_text(errors="replace")))


# -- a release the host itself does not run -------------------------------------------


def own_suite(sources: list[Source]) -> str | None:
    """The release the host's sources serve: the first plain suite (no -updates, -security)."""
    return next((s for source in sources for s in source.suites if "-" not in s and s not in ("stable", "testing")), None)


def release_mirror(suite: str, etc_apt: Path = Path("/etc/apt")) -> str:
    """The mirror for `suite`: a source of the host that serves it, else the one that serves the
    host's own release (a Debian mirror carries every release: a Debian 12 host builds a 13 lab box)."""
    sources = host_sources(etc_apt)
    try:
        return mirror_for(sources, suite)
    except MirrorNotFound:
        own = own_suite(sources)
        if own is None:
            raise
        return mirror_for(sources, own)


def retarget(text: str, old: str, new: str) -> str:
    """Source text for release `new` from the same text for `old`: only suite names change
    (`old`, `old-updates`, `old-security`), in `Suites:` fields and one-line `deb` entries."""
    word = re.compile(rf"(?<![\w.-]){re.escape(old)}(?=-|\s|$)")
    out = []
    for line in text.splitlines(keepends=True):
        stripped = line.lstrip()
        if stripped.lower().startswith("suites:") or stripped.startswith(("deb ", "deb\t", "deb-src ")):
            head, _, value = line.partition(":") if stripped.lower().startswith("suites:") else ("", "", line)
            value = word.sub(new, value)
            line = f"{head}:{value}" if head else value
        out.append(line)
    return "".join(out)


def suite_sources(suite: str, etc_apt: Path = Path("/etc/apt")) -> dict[Path, bytes]:
    """The host's source files for `suite`, by path: as they are when they serve it, else the files
    of the host's own release with its suite names turned into `suite`'s."""
    files = suite_source_files(suite, etc_apt)
    if files:
        return {path: path.read_bytes() for path in files}
    own = own_suite(host_sources(etc_apt))
    if own is None:
        return {}
    return {path: retarget(path.read_text(), own, suite).encode() for path in suite_source_files(own, etc_apt)}
