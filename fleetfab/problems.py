"""Problems found in operator input, each pinned to a file, line and field.

Input is checked as a whole before any host is contacted, so every problem is
collected and reported at once instead of failing on the first.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.field}: {self.message}"


class InputError(Exception):
    """Operator input that must be fixed before anything runs."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(set(problems))
        super().__init__("\n".join(str(p) for p in self.problems))
