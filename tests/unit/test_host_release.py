"""A host's release and package versions, from its answer to the first read.

The answers below are recorded from Debian 12 and Debian 13 machines (the
probe's own format): os-release, the mark, then dpkg-query's lines.
"""

from __future__ import annotations

import threading

import pytest

from fleetfab import release
from fleetfab.hostrun import HostRun
from fleetfab.redact import Redactor
from fleetfab.release import Release, UnsupportedRelease, compare_versions, parse
from fleetfab.resources import Command
from fleetfab.role import Role, RoleContext

BOOKWORM_OS = '''PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
'''
TRIXIE_OS = '''PRETTY_NAME="Debian GNU/Linux 13 (trixie)"
NAME="Debian GNU/Linux"
VERSION_ID="13"
VERSION="13 (trixie)"
VERSION_CODENAME=trixie
DEBIAN_VERSION_FULL=13.1
ID=debian
'''
BOOKWORM_PACKAGES = ("dovecot-core\t1:2.3.19.1+dfsg1-2.1+deb12u1\tinstalled\n"
                     "postfix\t3.7.11-0+deb12u1\tinstalled\n"
                     "bind9\t\tnot-installed\n"
                     "haproxy\t2.6.12-1+deb12u2\tconfig-files\n")
TRIXIE_PACKAGES = ("dovecot-core\t1:2.4.1+dfsg1-6+deb13u1\thalf-configured\n"
                   "postfix\t3.10.4-1~deb13u1\tinstalled\n")


def answer(os_text: str, packages: str = "") -> str:
    return f"{os_text}\n{release.PACKAGES_MARK}\n{packages}"


def test_a_debian_12_host_is_bookworm_with_its_installed_versions():
    found = parse(answer(BOOKWORM_OS, BOOKWORM_PACKAGES))
    assert (found.id, found.version_id, found.codename) == ("debian", "12", "bookworm")
    assert found.package_version("postfix") == "3.7.11-0+deb12u1"
    assert found.at_least("dovecot-core", "2.4") is False  # the epoch (1:) is not the version
    assert found.upstream("dovecot-core") == "2.3.19.1"


def test_a_package_not_installed_or_only_configured_has_no_version():
    found = parse(answer(BOOKWORM_OS, BOOKWORM_PACKAGES))
    assert found.package_version("bind9") is None and found.package_version("haproxy") is None
    assert found.at_least("bind9", "9.18") is None


def test_a_debian_13_host_is_trixie_and_a_half_configured_package_counts_as_its_files():
    found = parse(answer(TRIXIE_OS, TRIXIE_PACKAGES))
    assert str(found) == "Debian 13 (trixie)"
    assert found.at_least("dovecot-core", "2.4") is True and found.at_least("postfix", "3.10") is True


@pytest.mark.parametrize("os_text, named", [
    (TRIXIE_OS.replace('"13"', '"14"').replace("trixie", "forky"), "Debian 14 (forky)"),
    ('ID=ubuntu\nVERSION_ID="24.04"\nVERSION_CODENAME=noble\n', "Ubuntu 24.04 (noble)"),
    (BOOKWORM_OS.replace("VERSION_CODENAME=bookworm", "VERSION_CODENAME=trixie"), "Debian 12 (trixie)"),
])
def test_a_release_fleetfab_does_not_know_is_refused_by_name_with_what_it_supports(os_text, named):
    with pytest.raises(UnsupportedRelease) as refused:
        parse(answer(os_text))
    assert str(refused.value).startswith(f"{named} is not a release fleetfab supports")
    assert "Debian 12 (bookworm), Debian 13 (trixie)" in str(refused.value)
    assert "nothing was changed" in str(refused.value)


def test_debian_testing_without_a_version_id_is_refused():
    with pytest.raises(UnsupportedRelease, match="has no VERSION_ID: fleetfab supports Debian 12"):
        parse(answer('ID=debian\nVERSION_CODENAME=forky\n'))


def test_a_host_without_os_release_is_refused():
    with pytest.raises(UnsupportedRelease, match="has no ID"):
        parse(answer(""))


def test_an_answer_cut_before_the_package_list_is_refused():
    with pytest.raises(UnsupportedRelease, match="cut short"):
        parse(BOOKWORM_OS)


def test_a_field_that_does_not_fit_its_shape_is_refused_without_repeating_it():
    hostile = BOOKWORM_OS.replace("VERSION_CODENAME=bookworm", "VERSION_CODENAME=bookworm\x1b]0;owned\x07")
    with pytest.raises(UnsupportedRelease) as refused:
        parse(answer(hostile))
    assert "VERSION_CODENAME is refused" in str(refused.value) and "owned" not in str(refused.value)


@pytest.mark.parametrize("line", [
    "postfix\t3.7.11\tinstalled\textra",
    "postfix\t3.7.11 $(reboot)\tinstalled",
    "Postfix\t3.7.11\tinstalled",
])
def test_a_package_line_that_does_not_fit_refuses_the_answer(line):
    with pytest.raises(UnsupportedRelease, match="package list is refused: line 1"):
        parse(answer(BOOKWORM_OS, line + "\n"))


def test_the_last_of_a_repeated_os_release_key_wins_as_in_a_shell():
    assert parse(answer("ID=ubuntu\n" + BOOKWORM_OS)).id == "debian"


@pytest.mark.parametrize("a, b, order", [
    ("1:2.3.19.1+dfsg1-2.1+deb12u1", "2.4", 1),      # an epoch outranks everything after it
    ("2.3.19.1+dfsg1-2.1+deb12u1", "2.4", -1),
    ("3.10.4-1~deb13u1", "3.10", 1),
    ("3.7.11-0+deb12u1", "3.10", -1),                 # numbers compare as numbers, not text
    ("1.0~rc1-1", "1.0-1", -1),                       # a tilde sorts before the end
    ("1.0-1", "1.0-1", 0),
])
def test_versions_are_ordered_as_dpkg_orders_them(a, b, order):
    assert compare_versions(a, b) == order


def test_the_probe_reads_the_watched_packages_and_a_roles_own():
    script = release.probe(("dovecot-core", "my-daemon"))
    assert "/etc/os-release" in script and "dpkg-query -W" in script and "my-daemon" in script


# -- in the engine ------------------------------------------------------------------


class Marker(Role):
    """A role whose prepare would change the host."""

    name = "marker"

    def prepare(self, ctx):
        yield Command("mark", run="touch /marker", creates="/marker")


class Recorded(HostRun):
    """A HostRun whose reads are recorded answers and which records every change it would make."""

    def __init__(self, inventory, host, answers):
        super().__init__(inventory, host, {"marker": Marker()}, Redactor(), Quiet(), apply=True, stop=threading.Event())
        self.answers, self.applied = answers, []

    def read(self, label, probes):
        return self.answers[: len(probes)]

    def apply_change(self, resource, record):
        self.applied.append(record)


class Quiet:
    def step(self, host, text):
        pass


@pytest.fixture
def marked(write_inventory):
    from fleetfab.inventory.loader import load_inventory

    inventory = load_inventory(write_inventory("""
        groups:
          marked: {roles: [marker]}
        hosts:
          h1: {address: 198.18.0.71, groups: [marked]}
    """), roles={"marker": Marker()})
    return inventory, inventory.hosts["h1"]


def test_an_unsupported_release_stops_its_host_before_any_change(marked):
    from fleetfab.exports import ExportBook

    inventory, host = marked
    run = Recorded(inventory, host, [answer(TRIXIE_OS.replace('"13"', '"14"').replace("trixie", "forky")), "todo\n"])
    run.timed(lambda: run.prepare(ExportBook(Redactor())))
    assert run.applied == []
    assert run.report.error.startswith("refused: Debian 14 (forky) is not a release fleetfab supports")


def test_a_supported_release_reaches_the_roles_contexts(marked):
    from fleetfab.exports import ExportBook

    inventory, host = marked
    run = Recorded(inventory, host, [answer(TRIXIE_OS, TRIXIE_PACKAGES), "todo\n"])
    run.timed(lambda: run.prepare(ExportBook(Redactor())))
    assert run.report.error == "" and len(run.applied) == 1
    [(_, ctx)] = run.contexts(None)
    assert ctx.release.codename == "trixie" and ctx.package_version("postfix") == "3.10.4-1~deb13u1"


def test_a_context_made_outside_a_run_says_the_release_is_not_known(marked):
    inventory, host = marked
    with pytest.raises(LookupError, match="release of h1 is not known here"):
        RoleContext(inventory, host, "marker").release
