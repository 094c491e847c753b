"""apt's, dpkg's and df's answers read strictly, from recorded outputs of the real programs (Debian 12 and a
Debian 12 -> 13 preview recorded on a lab machine)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleetfab.upgrade import apt
from fleetfab.upgrade.precautions import ReleasePreview

FIXTURES = Path(__file__).parent / "fixtures" / "upgrade"


def recorded(name: str) -> str:
    return (FIXTURES / name).read_text()


def test_a_recorded_simulated_upgrade_lists_every_package_with_both_versions():
    sim = apt.parse_simulation(recorded("bookworm-upgrade-simulated.txt"))
    assert len(sim.upgrades) == 140 and not sim.installs and not sim.removals
    openssl = next(c for c in sim.changes if c.name == "openssl")
    assert openssl.old and openssl.new and openssl.old != openssl.new and "Security" in openssl.origin


def test_a_recorded_release_preview_counts_new_removed_and_upgraded_packages_as_its_summary_says():
    text = recorded("bookworm-to-trixie-preview.txt")
    body = text.partition("@simulation\n")[2].partition("\n@exit")[0]
    sim = apt.parse_simulation(body)
    assert (len(sim.upgrades), len(sim.installs), len(sim.removals)) == (201, 59, 19)
    assert any(c.name == "dovecot-core" and c.new.startswith("1:2.4") for c in sim.upgrades)


def test_a_newly_installed_package_has_no_old_version_and_a_removal_no_new_one():
    text = ("Inst newpkg (2.0-1 Debian:13.8/stable [all])\nRemv oldpkg [1.0-1]\n"
            "1 upgraded, 1 newly installed, 1 to remove and 0 not upgraded.\n"
            "Inst up [1-1] (2-1 Debian:13.8/stable [amd64]) [dep:amd64 ]\n")
    kinds = {c.name: c.kind for c in apt.parse_simulation(text).changes}
    assert kinds == {"newpkg": "install", "oldpkg": "remove", "up": "upgrade"}


def test_nothing_to_upgrade_is_an_empty_simulation():
    assert apt.parse_simulation("Reading package lists...\nCalculating upgrade...\n"
                                "0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n").changes == ()


def test_kept_back_packages_are_named():
    text = ("The following packages have been kept back:\n  linux-image-amd64 systemd\n"
            "0 upgraded, 0 newly installed, 0 to remove and 2 not upgraded.\n")
    assert apt.parse_simulation(text).kept_back == ("linux-image-amd64", "systemd")


@pytest.mark.parametrize("line", [
    "Inst evil\x1b[31m [1] (2 x [amd64])",
    "Inst pkg [1] (2;rm -rf / Debian [amd64])",
    "Inst pkg [1] (2 Debian:13/stable [amd64]) trailing words",
    "something apt never prints",
])
def test_a_line_apt_would_not_print_is_refused_without_repeating_it(line):
    text = f"{line}\n0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n"
    with pytest.raises(apt.AptAnswerError) as refused:
        apt.parse_simulation(text)
    assert line not in str(refused.value)


def test_a_summary_that_disagrees_with_the_lines_is_refused():
    with pytest.raises(apt.AptAnswerError, match="summary"):
        apt.parse_simulation("Inst a [1] (2 D:13/stable [all])\n2 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n")


def test_a_simulation_without_its_summary_is_refused_as_unfinished():
    with pytest.raises(apt.AptAnswerError, match="did not finish"):
        apt.parse_simulation("Inst a [1] (2 D:13/stable [all])\n")


def test_the_space_a_recorded_trivial_only_run_needs_is_read_in_bytes():
    space = apt.parse_space(recorded("bookworm-upgrade-trivial-only.txt"))
    assert space == apt.SpaceNeeded(download=173_000_000, growth=3_238_000)


def test_space_freed_is_negative_growth():
    assert apt.parse_space("After this operation, 5 kB disk space will be freed.\n").growth == -5000


def test_a_recorded_df_answer_gives_free_kib_and_the_mount_point():
    text = ("Filesystem     1024-blocks     Used Available Capacity Mounted on\n"
            "/dev/vda         264212084 29410232  76980680      28% /\n")
    assert apt.parse_df(text) == (76980680, "/")


def test_a_df_answer_of_another_shape_is_refused():
    with pytest.raises(apt.AptAnswerError):
        apt.parse_df("df: /nowhere: No such file or directory\n")


def test_held_packages_are_listed_one_a_line_and_a_strange_name_refused():
    assert apt.parse_holds("postfix\ndovecot-core\n") == ("postfix", "dovecot-core")
    with pytest.raises(apt.AptAnswerError):
        apt.parse_holds("Postfix; reboot\n")


def test_reboot_required_names_the_packages_that_asked():
    request = apt.parse_reboot(f"{apt.REBOOT_MARK}\n{apt.PKGS_MARK}\nlibc6\nlibssl3\nlibc6\n")
    assert request.required and request.packages == ("libc6", "libssl3")
    assert "libc6" in request.why()


def test_no_reboot_required_file_means_no_reboot():
    assert apt.parse_reboot(f"{apt.PKGS_MARK}\n") == apt.RebootRequest(False)


def test_a_preview_with_room_to_spare_passes_and_says_what_it_would_change():
    preview = ReleasePreview("x", "trixie", ())
    text = recorded("bookworm-to-trixie-preview.txt")
    assert preview.problem(text) is None
    assert "201 upgraded, 59 newly installed, 19 removed" in preview.compare(text).summary


def test_a_preview_without_room_for_the_download_stops_the_upgrade():
    text = recorded("bookworm-to-trixie-preview.txt").replace(" 76652640 ", " 100000 ")
    found = ReleasePreview("x", "trixie", ()).problem(text)
    assert found and found.startswith("not enough disk space") and "/ has" in found
