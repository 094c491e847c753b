"""Helpers for writing inventories in tests."""

from __future__ import annotations

import textwrap

import pytest

from fleetfab.inventory import InputError, load_inventory


@pytest.fixture
def write_inventory(tmp_path):
    def write(text: str, name: str = "hosts.yml"):
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip("\n"))
        return path

    return write


@pytest.fixture
def load(write_inventory):
    def load_text(text: str):
        return load_inventory(write_inventory(text))

    return load_text


@pytest.fixture
def problems(write_inventory):
    """The problems an inventory text has, as 'line: field: message' strings."""

    def collect(text: str) -> list[str]:
        path = write_inventory(text)
        with pytest.raises(InputError) as caught:
            load_inventory(path)
        for problem in caught.value.problems:
            assert problem.file == str(path)
        return [f"{p.line}: {p.field}: {p.message}" for p in caught.value.problems]

    return collect
