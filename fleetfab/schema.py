"""A small schema language for operator input.

Inventory sections and every role's settings are described with these kinds,
so that one checker reports all problems with their file, line and field.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

from fleetfab.inventory.yamlmarks import line_of
from fleetfab.problems import Problem


@dataclass(frozen=True)
class Where:
    """The place of a value: its file, line and dotted field path."""

    file: str
    line: int
    path: str

    def child(self, container, key) -> "Where":
        label = f"[{key}]" if isinstance(key, int) else (f".{key}" if self.path else str(key))
        return Where(self.file, line_of(container, key, self.line), f"{self.path}{label}")

    def problem(self, message: str) -> Problem:
        return Problem(self.file, self.line, self.path or "(top)", message)


class Kind:
    """A kind of value; `describe` reads well after 'expected'."""

    describe = "a value"

    def check(self, value, where: Where) -> list[Problem]:
        return [] if self.accepts(value) else [where.problem(f"expected {self.describe}, got {value!r}")]

    def accepts(self, value) -> bool:
        return True


class Any(Kind):
    pass


@dataclass
class Str(Kind):
    pattern: str | None = None
    describe: str = "a string"

    def accepts(self, value) -> bool:
        if not isinstance(value, str):
            return False
        return self.pattern is None or re.fullmatch(self.pattern, value) is not None


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


class IPAddress(Kind):
    describe = "an IP address"

    def accepts(self, value) -> bool:
        try:
            ipaddress.ip_address(value)
        except ValueError:
            return False
        return isinstance(value, str)


class Network(Kind):
    describe = "a network in CIDR form, such as 198.18.0.0/24"

    def accepts(self, value) -> bool:
        if not isinstance(value, str) or "/" not in value:
            return False
        try:
            ipaddress.ip_network(value, strict=True)
        except ValueError:
            return False
        return True


class Interface(Kind):
    """An address with its prefix length, such as 100.64.0.1/24."""

    describe = "an address with prefix, such as 100.64.0.1/24"

    def accepts(self, value) -> bool:
        if not isinstance(value, str) or "/" not in value:
            return False
        try:
            ipaddress.ip_interface(value)
        except ValueError:
            return False
        return True


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
            if not self.key.accepts(key):
                problems.append(at.problem(f"key expected to be {self.key.describe}"))
            problems += self.value.check(item, at)
        return problems


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
                known = ", ".join(sorted(self.fields)) or "none"
                problems.append(at.problem(f"unknown key {key!r} (known keys: {known})"))
            else:
                problems += spec.kind.check(item, at)
        for key, spec in self.fields.items():
            if spec.required and not partial and key not in value:
                problems.append(where.problem(f"missing required key {key!r}"))
        return problems
