"""The edge role: TLS terminated by HAProxy with an ACME certificate, in front of a real backend.

The test runner trusts only the fleet's ACME CA (pebble's root, in the lab)
and checks names as any client would. The backend is a small HTTP server
the tests start on the backend host for the duration of this module.
"""

from __future__ import annotations

import http.client
import socket
import time

import pytest

from tests.infra.acme import trusting

ROLE = "edge"
BACKEND_UNIT = "fleetfab-lab-backend"
BACKEND_DIR = "/srv/fleetfab-lab-backend"
HEALTH_WAIT = 20


@pytest.fixture(scope="module")
def site(spec, inventory):
    name, s = sorted(spec.settings(ROLE)["sites"].items())[0]
    names = s.get("names") or spec.settings("certificates")["certificates"][s["certificate"]]["names"]
    host_name = next(n for n in names if not n.startswith("*."))
    backend_host, _, port = s["backends"][0].rpartition(":")
    return {"name": name, "host": host_name, "backend": backend_host, "port": int(port), "names": names}


@pytest.fixture(scope="module")
def backend(site, connect):
    """A backend answering / and the health path, started on its host for these tests."""
    host = connect(site["backend"])
    host.run(f"mkdir -p {BACKEND_DIR} && echo 'hello from {site['backend']}' > {BACKEND_DIR}/index.html && "
             f"echo ok > {BACKEND_DIR}/ping")
    host.run(f"systemctl stop {BACKEND_UNIT} 2>/dev/null; systemctl reset-failed {BACKEND_UNIT} 2>/dev/null; "
             f"systemd-run --unit {BACKEND_UNIT} python3 -m http.server {site['port']} --directory {BACKEND_DIR}")
    yield host
    host.run(f"systemctl stop {BACKEND_UNIT}")


def https_get(address: str, name: str, context, path: str = "/") -> http.client.HTTPResponse:
    raw = socket.create_connection((address, 443), timeout=10)
    tls = context.wrap_socket(raw, server_hostname=name)
    connection = http.client.HTTPSConnection(name, 443, context=context, timeout=10)
    connection.sock = tls
    connection.request("GET", path, headers={"Host": name})
    return connection.getresponse()


def status_within(address, name, context, wanted: int, seconds: float) -> int:
    deadline, status = time.monotonic() + seconds, None
    while time.monotonic() < deadline:
        response = https_get(address, name, context)
        status = response.status
        response.read()
        if status == wanted:
            break
        time.sleep(1)
    return status


def test_the_site_certificate_is_valid_for_its_name_to_a_client_trusting_the_ca(spec, site, inventory):
    context = trusting(inventory)
    with socket.create_connection((spec.address, 443), timeout=10) as raw, \
            context.wrap_socket(raw, server_hostname=site["host"]) as tls:
        names = {v for k, v in tls.getpeercert()["subjectAltName"] if k == "DNS"}
    assert names == set(site["names"])


def test_the_backends_answer_comes_through_the_proxy(spec, site, inventory, backend):
    assert status_within(spec.address, site["host"], trusting(inventory), 200, HEALTH_WAIT) == 200
    response = https_get(spec.address, site["host"], trusting(inventory))
    assert f"hello from {site['backend']}" in response.read().decode()


def test_https_answers_carry_hsts(spec, site, inventory, backend):
    response = https_get(spec.address, site["host"], trusting(inventory))
    assert "max-age=" in (response.getheader("Strict-Transport-Security") or "")


def test_plain_http_redirects_to_https(spec, site):
    connection = http.client.HTTPConnection(spec.address, 80, timeout=10)
    connection.request("GET", "/some/path", headers={"Host": site["host"]})
    response = connection.getresponse()
    assert response.status == 301
    assert response.getheader("Location") == f"https://{site['host']}/some/path"


def test_a_client_limited_to_tls_1_2_is_still_served(spec, site, inventory):
    import ssl

    context = trusting(inventory)
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    with socket.create_connection((spec.address, 443), timeout=10) as raw, \
            context.wrap_socket(raw, server_hostname=site["host"]) as tls:
        assert tls.version() == "TLSv1.2" and "GCM" in tls.cipher()[0] or "CHACHA20" in tls.cipher()[0]


def test_a_stopped_backend_gives_503_and_the_site_recovers_when_it_returns(spec, site, inventory, backend):
    context = trusting(inventory)
    backend.run(f"systemctl stop {BACKEND_UNIT}")
    try:
        assert status_within(spec.address, site["host"], context, 503, HEALTH_WAIT) == 503
    finally:
        backend.run(f"systemctl reset-failed {BACKEND_UNIT} 2>/dev/null; systemd-run --unit {BACKEND_UNIT} "
                    f"python3 -m http.server {site['port']} --directory {BACKEND_DIR}")
    assert status_within(spec.address, site["host"], context, 200, HEALTH_WAIT) == 200
