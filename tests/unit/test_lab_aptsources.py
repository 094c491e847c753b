"""The box's Debian mirror is read off the host's apt sources, in either format."""

import pytest

from fleetfab.lab.aptsources import (
    MirrorNotFound, host_mirror, mirror_for, parse_deb822, parse_one_line, reaches_mirror,
    suite_source_files,
)

DEB822 = """\
Types: deb
# a comment inside a stanza
URIs: http://mirror.example.net/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://mirror.example.net/debian-security
Suites: bookworm-security
Components: main
"""

ONE_LINE = """\
# deb http://old.example.net/debian bookworm main
deb-src http://src.example.net/debian bookworm main
deb [arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://mirror.example.org/debian bookworm main
deb http://mirror.example.org/debian-security bookworm-security main
"""


def test_deb822_mirror_is_the_uri_serving_the_suite():
    assert mirror_for(parse_deb822(DEB822), "bookworm") == "http://mirror.example.net/debian"


def test_deb822_companion_suites_do_not_count_as_the_suite():
    assert mirror_for(parse_deb822(DEB822), "bookworm-security") == "http://mirror.example.net/debian-security"


def test_deb822_disabled_and_source_only_stanzas_are_skipped():
    text = "Types: deb\nURIs: http://off.example.net/debian\nSuites: bookworm\nEnabled: no\n\n" \
           "Types: deb-src\nURIs: http://src.example.net/debian\nSuites: bookworm\n"
    assert parse_deb822(text) == []


def test_deb822_several_uris_in_one_stanza_each_become_a_source():
    text = "Types: deb\nURIs: http://a.example.net/debian http://b.example.net/debian\nSuites: bookworm\n"
    assert [s.uri for s in parse_deb822(text)] == ["http://a.example.net/debian", "http://b.example.net/debian"]


def test_one_line_mirror_skips_comments_deb_src_and_options():
    assert mirror_for(parse_one_line(ONE_LINE), "bookworm") == "http://mirror.example.org/debian"


def test_a_suite_nobody_serves_is_an_error():
    with pytest.raises(MirrorNotFound, match="trixie"):
        mirror_for(parse_one_line(ONE_LINE), "trixie")


@pytest.fixture
def etc_apt(tmp_path):
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "apt.conf.d").mkdir()
    return tmp_path


def test_host_mirror_reads_sources_list_d_deb822_files(etc_apt):
    (etc_apt / "sources.list.d" / "debian.sources").write_text(DEB822)
    assert host_mirror("bookworm", etc_apt) == "http://mirror.example.net/debian"


def test_host_mirror_reads_the_one_line_sources_list(etc_apt):
    (etc_apt / "sources.list").write_text(ONE_LINE)
    assert host_mirror("bookworm", etc_apt) == "http://mirror.example.org/debian"


def test_files_apt_ignores_are_ignored(etc_apt):
    (etc_apt / "sources.list.d" / "debian.sources.disabled").write_text(DEB822)
    with pytest.raises(MirrorNotFound):
        host_mirror("bookworm", etc_apt)


def test_only_files_serving_the_suite_are_copied_into_machines(etc_apt):
    (etc_apt / "sources.list.d" / "debian.sources").write_text(DEB822)
    (etc_apt / "sources.list.d" / "vendor.list").write_text("deb http://vendor.example.com/apt stable main\n")
    assert [p.name for p in suite_source_files("bookworm", etc_apt)] == ["debian.sources"]


def test_proxy_and_validity_settings_travel_other_apt_settings_do_not():
    assert reaches_mirror('Acquire::http::Proxy "http://proxy.example.net:3128";')
    assert reaches_mirror('Acquire::Check-Valid-Until "false";')
    assert not reaches_mirror('Acquire::Languages "none";')
