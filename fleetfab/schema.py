"""A small schema language for operator input.

Inventory sections and every role's settings are described with these kinds,
so that one checker reports all problems with their file, line and field.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from fleetfab.closest import closest
from fleetfab.inventory.yamlmarks import line_of
from fleetfab.problems import Problem

#: characters no setting holds unless its kind says so: C0 and C1 controls
#: (newline, carriage return, escape ...) and Unicode's line and paragraph separators
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
#: a network interface's name, as the kernel allows it and no command reads as an option
INTERFACE_NAME = r"[A-Za-z0-9_.][A-Za-z0-9_.-]{0,14}"
#: a DNS host name (letters, digits, '-', '_'; no label starts with '-'), optionally absolute
DNS_NAME = r"(?=.{1,254}$)[A-Za-z0-9_]([A-Za-z0-9_-]{0,62})(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,62}))*\.?"
#: an absolute path made of characters no configuration syntax or shell word treats specially
ABSOLUTE_PATH = r"/[A-Za-z0-9._+@,:=~/-]*"
#: a Debian package's name (Debian Policy 5.6.1); apt could read anything else as an option or a pattern
PACKAGE_NAME = r"[a-z0-9][a-z0-9+.-]+"


@dataclass(frozen=True)
class Where:
    """The place of a value: its file, line and dotted field path."""

    file: str
    line: int
    path: str

    def child(self, container, key) -> "Where":
        return Where(self.file, line_of(container, key, self.line), self.path + field_label(key, first=not self.path))

    def problem(self, message: str) -> Problem:
        return Problem(self.file, self.line, self.path or "(top)", message)


def field_label(key, first: bool = False) -> str:
    """A key as a part of a dotted field path; a key holding control
    characters is shown quoted, so that a problem stays on one line."""
    if isinstance(key, int) and not isinstance(key, bool):
        return f"[{key}]"
    if not isinstance(key, str) or CONTROL.search(key) or not key:
        return f"[{key!r}]"
    return key if first else f".{key}"


class Kind:
    """A kind of value; `describe` reads well after 'expected'."""

    describe = "a value"

    def check(self, value, where: Where) -> list[Problem]:
        why = self.refusal(value)
        return [where.problem(why)] if why else []

    def refusal(self, value) -> str | None:
        """Why `value` is not of this kind (one line), or None."""
        return None if self.accepts(value) else self.expected(value)

    def expected(self, value) -> str:
        return f"expected {self.describe}, got {value!r}"

    def accepts(self, value) -> bool:
        return True


class Any(Kind):
    pass


@dataclass
class Str(Kind):
    """A string; it never holds a control character unless `control` says it may."""

    pattern: str | None = None
    describe: str = "a string"
    control: bool = False

    def refusal(self, value) -> str | None:
        if not isinstance(value, str):
            return self.expected(value)
        if not self.control and CONTROL.search(value):
            return f"expected {self.describe} without control characters (newline, tab, escape ...), got {value!r}"
        if self.pattern is not None and re.fullmatch(self.pattern, value) is None:
            return self.expected(value)
        return None

    def accepts(self, value) -> bool:
        return self.refusal(value) is None


def Name(pattern: str, describe: str) -> Str:
    """A name handed to a command as an argument: `pattern` must not let it start with '-'."""
    assert re.fullmatch(pattern, "-x") is None, f"{pattern} lets a name be read as an option"
    return Str(pattern, describe=describe)


def PackageName() -> Str:
    return Name(PACKAGE_NAME, "a Debian package name (a-z, 0-9, '+', '.' and '-', not starting with '-')")


def HostName(describe: str = "a host name") -> Str:
    return Name(DNS_NAME, describe)


def AbsolutePath(describe: str = "an absolute path") -> Str:
    return Str(ABSOLUTE_PATH, describe=describe)


#: what a URL setting never holds: it is written between quotes or as one word
URL_FORBIDDEN = re.compile(r"""[\s"'`;\\<>]""")


@dataclass
class Url(Str):
    """A URL with a host, of one of `schemes`, safe to write between quotes or as one word."""

    describe: str = "an http(s) URL"
    schemes: tuple = ("http", "https")

    def refusal(self, value) -> str | None:
        why = super().refusal(value)
        if why:
            return why
        bad = URL_FORBIDDEN.search(value)
        if bad:
            return f"expected {self.describe}, got {value!r}: {bad.group()!r} has no place in a URL"
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018  (raises on a port that is not one)
        except ValueError as exc:
            return f"expected {self.describe}, got {value!r}: {exc}"
        if parts.scheme not in self.schemes:
            return f"expected {self.describe}, got {value!r}: the scheme is not {' or '.join(self.schemes)}"
        host = parts.hostname or ""
        if not (re.fullmatch(DNS_NAME, host) or _is_address(host)):
            return f"expected {self.describe}, got {value!r}: no host name or address"
        return None


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return zone_refusal(text) is None


def zone_refusal(text: str) -> str | None:
    """Why the zone index of an address (fe80::1%eth0, fe80::1%eth0/64) is
    not an interface name, or None. Python's ipaddress takes any text after '%'."""
    address = text.split("/", 1)[0]
    if "%" not in address:
        return None
    zone = address.split("%", 1)[1]
    if re.fullmatch(INTERFACE_NAME, zone):
        return None
    return (f"the zone index of {text!r} is not an interface name "
            "(1 to 15 of A-Z, a-z, 0-9, '_', '.' and '-', not starting with '-')")


@dataclass
class Int(Kind):
    min: int | None = None
    max: int | None = None

    @property
    def describe(self) -> str:
        bounds = f" from {self.min}" if self.min is not None else ""
        bounds += f" to {self.max}" if self.max is not None else ""
        return f"a whole number{bounds}"

    def accepts(self, value) -> bool:
        if isinstance(value, bool) or not isinstance(value, int):
            return False
        return (self.min is None or value >= self.min) and (self.max is None or value <= self.max)


class Bool(Kind):
    describe = "true or false"

    def accepts(self, value) -> bool:
        return isinstance(value, bool)


def Port() -> Int:
    return Int(1, 65535)


class _Addressing(Kind):
    """A kind read by Python's ipaddress, whose zone index (after '%') must be an interface name."""

    def refusal(self, value) -> str | None:
        if not isinstance(value, str) or not self.parses(value):
            return self.expected(value)
        return zone_refusal(value)

    def accepts(self, value) -> bool:
        return self.refusal(value) is None

    def parses(self, value: str) -> bool:
        raise NotImplementedError


class IPAddress(_Addressing):
    describe = "an IP address"

    def parses(self, value: str) -> bool:
        try:
            ipaddress.ip_address(value)
        except ValueError:
            return False
        return True


class Network(_Addressing):
    describe = "a network in CIDR form, such as 198.18.0.0/24"

    def parses(self, value: str) -> bool:
        if "/" not in value:
            return False
        try:
            ipaddress.ip_network(value, strict=True)
        except ValueError:
            return False
        return True


class Interface(_Addressing):
    """An address with its prefix length, such as 100.64.0.1/24."""

    describe = "an address with prefix, such as 100.64.0.1/24"

    def parses(self, value: str) -> bool:
        if "/" not in value:
            return False
        try:
            ipaddress.ip_interface(value)
        except ValueError:
            return False
        return True


@dataclass
class HostPort(Str):
    """host:port, the host a name, an IPv4 address or a bracketed IPv6 address.

    `zones`: whether an IPv6 address may carry a zone index (an interface
    name); a systemd command line would take its '%' as a specifier."""

    describe: str = "host:port"
    zones: bool = True

    def refusal(self, value) -> str | None:
        why = super().refusal(value)
        if why:
            return why
        host, _, port = value.rpartition(":")
        if not (port.isdigit() and 1 <= int(port) <= 65535) or not self._host(host):
            return self.expected(value)
        return None

    def _host(self, host: str) -> bool:
        if host.startswith("[") and host.endswith("]"):
            address = host[1:-1]
            try:
                ipaddress.IPv6Address(address)
            except ValueError:
                return False
            return zone_refusal(address) is None and (self.zones or "%" not in address)
        return re.fullmatch(DNS_NAME, host) is not None


class Null(Kind):
    describe = "nothing"

    def accepts(self, value) -> bool:
        return value is None


@dataclass
class OneOf(Kind):
    """A value of any of `kinds` (a Postfix parameter: a word, a number, yes/no or a list)."""

    kinds: tuple
    describe: str = "a value"

    def check(self, value, where: Where) -> list[Problem]:
        if self.refusal(value) is None:
            return []
        kind = self._closest(value)
        return kind.check(value, where) if kind else [where.problem(self.expected(value))]

    def refusal(self, value) -> str | None:
        if any(kind.refusal(value) is None for kind in self.kinds):
            return None
        kind = self._closest(value)
        return kind.refusal(value) if kind else self.expected(value)

    def _closest(self, value) -> Kind | None:
        """The kind of the value's own shape, which says best why it is refused
        (a string's control characters, a list's one bad item at its line)."""
        for kind in self.kinds:
            if (isinstance(value, str) and isinstance(kind, Str)) or (isinstance(value, list) and isinstance(kind, ListOf)):
                return kind
        return None

    def accepts(self, value) -> bool:
        return self.refusal(value) is None


@dataclass
class Choice(Kind):
    values: tuple

    @property
    def describe(self) -> str:
        return "one of " + ", ".join(repr(v) for v in self.values)

    def accepts(self, value) -> bool:
        return value in self.values


@dataclass
class ListOf(Kind):
    item: Kind
    describe: str = "a list"

    def check(self, value, where: Where) -> list[Problem]:
        if not isinstance(value, list):
            return [where.problem(f"expected a list, got {value!r}")]
        problems: list[Problem] = []
        for index, item in enumerate(value):
            problems += self.item.check(item, where.child(value, index))
        return problems

    def refusal(self, value) -> str | None:
        if not isinstance(value, list):
            return f"expected a list, got {value!r}"
        return next((why for why in map(self.item.refusal, value) if why), None)


@dataclass
class MapOf(Kind):
    value: Kind
    key: Kind = field(default_factory=lambda: Str())
    describe: str = "a mapping"

    def check(self, value, where: Where) -> list[Problem]:
        if not isinstance(value, dict):
            return [where.problem(f"expected a mapping, got {value!r}")]
        problems: list[Problem] = []
        for key, item in value.items():
            at = where.child(value, key)
            if self.key.refusal(key):
                problems.append(at.problem(f"key expected to be {self.key.describe}, got {key!r}"))
            problems += self.value.check(item, at)
        return problems


def unknown_key(key, fields) -> str:
    """The problem of a key no schema knows: the likely intended one first, then every known key."""
    known = ", ".join(sorted(fields)) or "none"
    match = closest(key, fields)
    guess = f": did you mean {match!r}?" if match else ""
    return f"unknown key {key!r}{guess} (known keys: {known})"


@dataclass
class Field:
    kind: Kind
    required: bool = False
    doc: str = ""


@dataclass
class Record(Kind):
    """A mapping with known keys; any other key is a mistake worth reporting."""

    fields: dict[str, Field]
    describe: str = "a mapping"

    def check(self, value, where: Where, partial: bool = False) -> list[Problem]:
        """`partial`: the value is one layer of settings merged later, so
        its own required keys may come from another layer."""
        if value is None:
            value = {}
        if not isinstance(value, dict):
            return [where.problem(f"expected a mapping, got {value!r}")]
        problems: list[Problem] = []
        for key, item in value.items():
            at = where.child(value, key)
            spec = self.fields.get(key)
            if spec is None:
                problems.append(at.problem(unknown_key(key, self.fields)))
            else:
                problems += spec.kind.check(item, at)
        for key, spec in self.fields.items():
            if spec.required and not partial and key not in value:
                problems.append(where.problem(f"missing required key {key!r}"))
        return problems
