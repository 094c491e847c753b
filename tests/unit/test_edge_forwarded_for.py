"""HAProxy replaces a client's X-Forwarded-For with the address it saw, never passes it on."""

from __future__ import annotations

import pytest

from fleetfab.roles.edge import CONFIG, Edge
from tests.unit.acme_fleet import INVENTORY, context


@pytest.fixture
def config(load) -> list[str]:
    state = {r.key: r for r in Edge().resources(context(load(INVENTORY), "edge1", "edge"))}
    return [line.strip() for line in state[f"file {CONFIG}"].content.splitlines()]


def section(lines: list[str], header: str) -> list[str]:
    start = lines.index(header) + 1
    end = next((i for i in range(start, len(lines)) if lines[i].startswith(("frontend ", "backend ", "defaults", "global"))), len(lines))
    return [line for line in lines[start:end] if line and not line.startswith("#")]


def test_https_drops_a_client_supplied_x_forwarded_for_before_choosing_a_backend(config):
    https = section(config, "frontend https")
    dropped = https.index("http-request del-header X-Forwarded-For")
    assert all(dropped < i for i, line in enumerate(https) if line.startswith("use_backend"))


def test_haproxy_adds_the_clients_address_it_saw(config):
    assert "option forwardfor" in section(config, "defaults")
