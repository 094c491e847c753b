"""Security: each attack on fleetfab's trust boundaries, reproduced for real.

A lab host whose answers carry extra lines, an unprivileged account that
plants links and holds locks, answers beyond their bound, escapes in a
managed file, bad inventory values, and ssh-audit against every lab host.
Tests that need the lab use the `lab` fixture (the same harness as
tests/faults: fab runs as an operator would, machines reached through the
lab's Docker engine); the rest need nothing but this checkout.
`--inventory` names the lab inventory (default: $FLEETFAB_INVENTORY, else
inventory/lab.yml).
"""

from __future__ import annotations

import pytest

from tests.faults.conftest import FaultLab, Run, failed_hosts, lab, reason  # noqa: F401  (fixtures and helpers)


def pytest_addoption(parser):
    parser.getgroup("fleetfab").addoption(
        "--inventory", default=None,
        help="lab inventory (default: $FLEETFAB_INVENTORY, else inventory/lab.yml)")


def pytest_collection_modifyitems(items):
    for item in items:
        item.add_marker(pytest.mark.security)
