"""A URL setting is a URL: parsed, of its schemes, with a host, and nothing that ends a quoted value or a word."""

from __future__ import annotations

import pytest

from fleetfab.schema import Url
from tests.unit.validation_fleet import one_host


def test_an_apt_proxy_with_a_quote_is_refused(problems):
    found = problems(one_host('''
        base: {apt_proxy: 'http://198.18.0.1:3142";APT::Update::Pre-Invoke{"touch>/tmp/x";};//'}
    '''))
    assert found == ["6: hosts.a.vars.base.apt_proxy: expected an http(s) URL, got "
                     "'http://198.18.0.1:3142\";APT::Update::Pre-Invoke{\"touch>/tmp/x\";};//': '\"' has no place in a URL"]


@pytest.mark.parametrize("url", ["http://proxy;x", "http://proxy/'x", "http://proxy/`id`", "http://proxy/a\\b", "http://proxy/<x>"])
def test_a_url_with_a_semicolon_quote_backslash_or_angle_bracket_is_refused(url):
    assert "has no place in a URL" in Url().refusal(url)


def test_a_url_with_a_space_is_refused():
    assert "has no place in a URL" in Url().refusal("http://proxy:3142/ x")


def test_a_url_of_another_scheme_is_refused():
    assert "the scheme is not http or https" in Url().refusal("file:///etc/shadow")


def test_a_url_without_a_host_is_refused():
    assert "no host name or address" in Url().refusal("http:///path")


def test_a_url_with_a_port_that_is_not_one_is_refused():
    assert Url().refusal("http://proxy:99999/") is not None


def test_a_url_whose_host_starts_with_a_dash_is_refused():
    assert "no host name or address" in Url().refusal("http://-oProxy=x/")


@pytest.mark.parametrize("url", ["http://198.18.0.1:3142", "https://apt.example.com/debian/", "http://[2001:db8::1]:3142/",
                                 "https://user@proxy.example.com:8443/path?x=1"])
def test_ordinary_urls_are_accepted(url):
    assert Url().refusal(url) is None


def test_the_acme_directory_must_be_https(problems):
    found = problems(one_host("certificates: {directory: 'http://acme.example.com/dir'}"))
    assert found == ["6: hosts.a.vars.certificates.directory: expected an https URL, got 'http://acme.example.com/dir': "
                     "the scheme is not https"]


def test_a_kubernetes_source_url_still_needs_its_minor(problems):
    found = problems(one_host("kubernetes: {source: {kind: repository, url: 'https://pkgs.example.com/deb/'}}"))
    assert found == ["6: hosts.a.vars.kubernetes.source.url: expected an http(s) URL with {minor} in it, "
                     "got 'https://pkgs.example.com/deb/'"]


def test_a_vm_image_url_with_a_quote_is_refused(problems):
    found = problems(one_host('''vmhost: {images: {deb: {url: "https://example.com/x'.qcow2"}}}'''))
    assert len(found) == 1 and found[0].startswith("6: hosts.a.vars.vmhost.images.deb.url: expected an http(s) URL")
