"""The edge role: its checks, HAProxy's configuration, its handlers, and the served certificate."""

from __future__ import annotations

import pytest

from fleetfab.roles.certificates.settings import combined
from fleetfab.roles.edge import CONFIG, Edge
from fleetfab.roles.certificates.served import ServedCertificate
from tests.unit.acme_fleet import INVENTORY, context, line_in

FINGERPRINT = "sha256 Fingerprint=AB:CD:EF:01"
OTHER = "sha256 Fingerprint=12:34:56:78"


@pytest.fixture
def inventory(load):
    return load(INVENTORY)


def desired(inventory) -> dict:
    return {r.key: r for r in Edge().resources(context(inventory, "edge1", "edge"))}


@pytest.fixture
def config(inventory) -> str:
    return desired(inventory)[f"file {CONFIG}"].content


def section(config: str, header: str) -> list[str]:
    """The stripped lines of one section of haproxy.cfg (`frontend http`, `backend site_www` ...)."""
    lines = config.splitlines()
    start = lines.index(header) + 1
    body = []
    for line in lines[start:]:
        if line and not line[0].isspace():
            break
        if line.strip():
            body.append(line.strip())
    return body


# -- checks ---------------------------------------------------------------------

CHECKED = """
    groups:
      dns:
        roles: [bind9]
        vars:
          bind9:
            server: primary
            zones:
              example.com: {}
    hosts:
      ns1: {address: 198.18.0.31, groups: [dns]}
      app1: {address: 198.18.0.21}
      edge1:
        address: 198.18.0.61
        roles: [certificates, edge]
        vars:
          certificates:
            certificates: {www: {names: [www.example.com]}}
          edge:
            sites: {www: {certificate: CERTIFICATE, backends: [BACKEND]}}
"""


def checked(certificate: str = "www", backend: str = "app1:8080") -> str:
    return CHECKED.replace("CERTIFICATE", certificate).replace("BACKEND", backend)


def test_a_well_formed_site_is_accepted(load):
    assert load(checked()).hosts["edge1"].settings("edge")["sites"]["www"]["certificate"] == "www"


def test_a_site_naming_a_certificate_the_host_does_not_have_is_a_problem(problems):
    text = checked(certificate="shop")
    [found] = problems(text)
    line, field, message = found.split(": ", 2)
    assert int(line) == line_in(text, "sites: {www:")
    assert field == "hosts.edge1.vars.edge.sites" and "'shop'" in message


def test_a_site_on_a_host_without_the_certificates_role_is_a_problem(problems):
    text = checked().replace("roles: [certificates, edge]", "roles: [edge]").replace(
        "          certificates:\n            certificates: {www: {names: [www.example.com]}}\n", "")
    [found] = problems(text)
    assert "hosts.edge1.vars.edge.sites" in found and "'www' is not one of this host's certificates" in found


@pytest.mark.parametrize("backend", ["app1", "app1:http", "'app1:'", "':8080'"])
def test_a_backend_that_is_not_host_and_port_is_a_problem(problems, backend):
    text = checked(backend=backend)
    found = problems(text)
    assert found and all("host:port" in p for p in found)
    assert f"{line_in(text, 'sites: {www:')}: hosts.edge1.vars.edge.sites.www.backends[0]: expected host:port" in found[0]


# -- haproxy.cfg ------------------------------------------------------------------------


def test_http_only_redirects_to_https_permanently(config):
    assert section(config, "frontend http") == ["bind :80", "http-request redirect scheme https code 301"]


def test_tls_below_1_2_is_refused(config):
    assert "ssl-default-bind-options ssl-min-ver TLSv1.2 no-tls-tickets" in section(config, "global")


def test_https_sends_hsts_with_the_configured_max_age(config):
    assert 'http-response set-header Strict-Transport-Security "max-age=31536000; includeSubDomains"' in (
        section(config, "frontend https"))


def test_each_site_has_its_own_backend(config):
    backends = [line for line in config.splitlines() if line.startswith("backend ")]
    assert backends == ["backend site_api", "backend site_www"]


def test_backends_are_health_checked_on_ping_by_default(config):
    assert "option httpchk GET /ping" in section(config, "backend site_www")


def test_a_sites_health_path_replaces_the_default(config):
    backend = section(config, "backend site_api")
    assert "option httpchk GET /healthz" in backend and "option httpchk GET /ping" not in backend


def test_a_mesh_member_is_reached_at_its_mesh_address(config):
    assert "server web1 100.64.0.21:8080 check" in section(config, "backend site_www")


def test_a_host_off_the_mesh_is_reached_at_its_address(config):
    assert "server app1 198.18.0.22:8081 check" in section(config, "backend site_www")


def test_a_backend_given_as_an_address_is_used_as_written(config):
    assert "server 198_18_0_99 198.18.0.99:8082 check" in section(config, "backend site_www")


def test_https_loads_the_combined_certificate_file(config):
    [bind] = [line for line in section(config, "frontend https") if line.startswith("bind :443 ssl")]
    assert f"crt {combined('www')}" in bind and combined("www") == "/etc/fleetfab/acme/www.pem"


def test_a_site_routes_its_certificates_names_and_wildcards(config):
    https = section(config, "frontend https")
    assert "use_backend site_www if { req.hdr(host),field(1,:) -i www.example.com }" in https
    assert "use_backend site_www if { req.hdr(host),field(1,:) -m end -i .apps.lab.test }" in https


def test_a_sites_own_names_replace_its_certificates(config):
    routed = [line for line in section(config, "frontend https") if "site_api" in line]
    assert routed == ["use_backend site_api if { req.hdr(host),field(1,:) -i api.example.com }"]


def test_the_configuration_is_checked_by_haproxy_before_it_is_used(inventory):
    validate = desired(inventory)[f"file {CONFIG}"].validate
    assert validate.startswith("haproxy -c ") and "-f %s" in validate


def test_a_changed_configuration_reloads_haproxy(inventory):
    assert desired(inventory)[f"file {CONFIG}"].notify == ("reload haproxy",)


def test_handlers_reload_and_never_restart(inventory):
    handlers = Edge().handlers(context(inventory, "edge1", "edge"))
    assert handlers == {"reload haproxy": "systemctl reload haproxy"}
    assert not any("restart" in command for command in handlers.values())


# -- the certificate HAProxy serves ----------------------------------------------------


def served() -> ServedCertificate:
    return ServedCertificate(443, "www.example.com", "/etc/fleetfab/acme/www.pem", notify="reload haproxy")


def test_each_site_checks_the_certificate_served_for_its_first_name(inventory):
    found = {r.server_name: r for r in desired(inventory).values() if isinstance(r, ServedCertificate)}
    assert set(found) == {"www.example.com", "api.example.com"}
    assert found["www.example.com"].path == combined("www") and found["www.example.com"].notify == ("reload haproxy",)


def test_serving_the_certificate_on_disk_is_no_change():
    assert served().compare(f"{FINGERPRINT}\n\n{FINGERPRINT}\n") is None


def test_serving_another_certificate_than_the_one_on_disk_is_a_change():
    change = served().compare(f"{OTHER}\n\n{FINGERPRINT}\n")
    assert change is not None and "serves another certificate" in change.summary


def test_serving_nothing_is_a_change():
    change = served().compare(f"\n{FINGERPRINT}\n")
    assert change is not None and "serves nothing" in change.summary


def test_nothing_served_and_nothing_on_disk_is_a_change():
    assert served().compare("\n\n") is not None
