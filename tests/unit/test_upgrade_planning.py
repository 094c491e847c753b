"""Planning a rolling upgrade: the batches, the suites switched, the steps' decisions from recorded answers."""

from __future__ import annotations

import base64
import textwrap

import pytest

from fleetfab.inventory import InputError, load_inventory
from fleetfab.upgrade import apt
from fleetfab.upgrade.batches import Limit, limits_of, plan_batches
from fleetfab.upgrade.sources import SourcesError, SourcesSwitched, switch_deb822, switch_one_line
from fleetfab.upgrade.steps import PackagesUpgraded, Rebooted, split_exit

MARKER = "@boot\n0b6c3c0e-8d1c-4a59-9d4e-5a0f4f1b2c3d\n1470156\n"


# -- batches -----------------------------------------------------------------------------


def test_the_default_batch_is_one_host_at_a_time_in_order():
    assert plan_batches(["a", "b", "c"], []) == [["a"], ["b"], ["c"]]


def test_a_limit_keeps_two_of_its_members_out_of_one_batch():
    name_servers = Limit("role bind9", frozenset({"ns1", "ns2"}), 1)
    assert plan_batches(["ns1", "ns2", "mail1", "edge1"], [name_servers], size=3) == [["ns1", "mail1", "edge1"], ["ns2"]]


def test_every_limit_holds_at_once():
    limits = [Limit("a", frozenset({"x", "y"}), 1), Limit("b", frozenset({"y", "z"}), 1)]
    assert plan_batches(["x", "y", "z"], limits, size=3) == [["x", "z"], ["y"]]


INVENTORY = """
hosts:
  ns1: {address: 198.18.0.31, groups: [dns], vars: {bind9: {server: primary}}}
  ns2: {address: 198.18.0.32, groups: [dns], vars: {bind9: {server: secondary}}}
  web1: {address: 198.18.0.61, groups: [web]}
  web2: {address: 198.18.0.62, groups: [web]}
  web3: {address: 198.18.0.63, groups: [web]}
groups:
  dns: {roles: [bind9], vars: {bind9: {zones: {example.com: {}}}}}
  web:
    upgrade: {down_together: 2}
"""


def inventory_of(tmp_path, text):
    path = tmp_path / "hosts.yml"
    path.write_text(textwrap.dedent(text))
    return load_inventory(path)


def test_a_group_says_how_many_of_its_hosts_go_down_together_and_a_role_keeps_one_name_server_up(tmp_path):
    inventory = inventory_of(tmp_path, INVENTORY)
    assert plan_batches(list(inventory.hosts), limits_of(inventory), size=5) == [["ns1", "web1", "web2"], ["ns2", "web3"]]


def test_a_group_limit_that_is_not_a_positive_number_is_refused_with_its_line(tmp_path):
    with pytest.raises(InputError) as refused:
        inventory_of(tmp_path, INVENTORY.replace("down_together: 2", "down_together: 0"))
    assert [(p.field, p.line) for p in refused.value.problems] == [("groups.web.upgrade.down_together", 11)]


def test_an_unknown_upgrade_setting_is_refused(tmp_path):
    with pytest.raises(InputError) as refused:
        inventory_of(tmp_path, INVENTORY.replace("down_together: 2", "down_togther: 2"))
    assert any("down_togther" in str(p) for p in refused.value.problems)


# -- sources -----------------------------------------------------------------------------


DEB822 = """Types: deb
URIs: http://mirror.example.com/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://mirror.example.com/debian-security
Suites: bookworm-security
Components: main
"""


def test_debian_suites_are_switched_and_addresses_left_alone():
    out = switch_deb822(DEB822, "bookworm", "trixie", "x.sources")
    assert "Suites: trixie trixie-updates\n" in out and "Suites: trixie-security\n" in out
    assert out.count("mirror.example.com") == 2 and "bookworm" not in out


def test_one_line_sources_switch_only_the_suite_field_and_keep_comments():
    text = "# deb http://mirror.example.com/debian bookworm main\ndeb [arch=amd64] http://mirror.example.com/debian bookworm-backports main\n"
    out = switch_one_line(text, "bookworm", "trixie", "sources.list")
    assert out.splitlines() == ["# deb http://mirror.example.com/debian bookworm main",
                                "deb [arch=amd64] http://mirror.example.com/debian trixie-backports main"]


def test_a_third_partys_suite_naming_the_old_release_is_refused():
    with pytest.raises(SourcesError, match="bookworm-pgdg"):
        switch_one_line("deb http://apt.example.net/pub bookworm-pgdg main\n", "bookworm", "trixie", "pg.list")


def test_a_suite_without_a_release_name_is_kept():
    assert switch_one_line("deb http://repo.example.net/ ./\n", "bookworm", "trixie", "x.list") == "deb http://repo.example.net/ ./\n"


def probe_answer(path: str, text: str) -> str:
    return f"@source {path} {len(text.encode())}\n{base64.b64encode(text.encode()).decode()}\n"


def test_the_switch_plans_a_diff_for_each_changed_file_and_writes_through_the_safe_writer():
    resource = SourcesSwitched("bookworm", "trixie")
    change = resource.compare(probe_answer("/etc/apt/sources.list.d/debian.sources", DEB822))
    assert change.action == "switch" and "+Suites: trixie trixie-updates" in change.diff
    assert "ff_enter" in resource.fix(change)


def test_a_source_file_name_outside_apt_s_folders_is_refused():
    change = SourcesSwitched("bookworm", "trixie").compare(probe_answer("/etc/shadow", "x"))
    assert change.action == "refused"


def test_a_symbolic_link_among_the_sources_is_refused():
    change = SourcesSwitched("bookworm", "trixie").compare("@link /etc/apt/sources.list.d/x.sources\n")
    assert change.action == "refused" and "symbolic link" in change.summary


# -- steps -------------------------------------------------------------------------------


def test_packages_to_upgrade_are_a_change_whose_fix_keeps_the_inventorys_files():
    sim = "Inst a [1] (2 D:12/stable [all])\nConf a (2 D:12/stable [all])\n1 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n"
    resource = PackagesUpgraded()
    change = resource.compare(sim + "@exit 0\n")
    assert change.action == "upgrade" and "a 1 -> 2" in change.summary
    fix = resource.fix(change)
    assert "--force-confold" in fix and "--force-confdef" in fix and "DEBIAN_FRONTEND=noninteractive" in fix


def test_a_failed_package_list_refresh_is_refused_with_apts_own_error():
    output = "@update-failed\nE: Failed to fetch something\n@update-end\n0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n@exit 0\n"
    change = PackagesUpgraded().compare(output)
    assert change.action == "refused" and "E: Failed to fetch" in change.summary


def test_up_to_date_packages_are_no_change_and_say_so():
    output = "0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n@exit 0\n"
    assert PackagesUpgraded().compare(output) is None
    assert PackagesUpgraded().note(output) == "every package is up to date"


def test_a_dry_run_reads_fresh_lists_into_a_folder_of_its_own():
    probe = PackagesUpgraded(private_lists=True).probe()
    assert "Dir::State::Lists=$d" in probe and "mktemp -d" in probe


def test_a_reboot_happens_only_when_the_system_asks_and_carries_the_boot_marker():
    asked = Rebooted().compare(f"{apt.REBOOT_MARK}\n{apt.PKGS_MARK}\nlibc6\n{MARKER}")
    assert asked.action == "reboot" and asked.data == ("0b6c3c0e-8d1c-4a59-9d4e-5a0f4f1b2c3d\n1470156",)
    assert Rebooted().compare(f"{apt.PKGS_MARK}\n{MARKER}") is None


def test_a_release_upgrade_reboots_always_and_says_why():
    change = Rebooted(always="a new release").compare(f"{apt.PKGS_MARK}\n{MARKER}")
    assert change.action == "reboot" and change.summary == "a new release"


def test_an_exit_status_line_is_split_from_the_answer():
    assert split_exit("a\nb\n@exit 100\n") == ("a\nb", 100)


# -- the release upgrade's own steps ---------------------------------------------------------------


def test_held_starts_are_done_once_each_on_the_new_files_and_stops_or_status_queries_need_nothing():
    from fleetfab.upgrade.steps import held_requests

    log = "dovecot stop 5\ndovecot restart 5\ndovecot.service restart\ndbus start 5\npostfix status 5\nbad;name restart\n"
    assert held_requests(log) == [("try-restart", "dovecot.service"), ("start", "dbus.service")]


def test_releasing_starts_removes_the_policy_then_restarts_what_was_held_leaving_a_failed_restart_to_the_converge():
    from fleetfab.upgrade.steps import HELD_LOG, POLICY, StartsReleased

    change = StartsReleased().compare("@held\npostfix.service restart\n")
    fix = StartsReleased().fix(change)
    assert fix.index(f"rm -f {POLICY}") < fix.index("systemctl try-restart postfix.service") < fix.index(f"rm -f {HELD_LOG}")
    assert "systemctl try-restart postfix.service >/dev/null 2>&1 || true" in fix
    assert StartsReleased().compare("") is None


def test_the_policy_lets_ssh_restart_and_holds_every_other_service(tmp_path):
    import subprocess

    from fleetfab.upgrade.steps import POLICY_TEXT

    policy = tmp_path / "policy-rc.d"
    policy.write_text(POLICY_TEXT.replace("/run/fleetfab-held-starts", str(tmp_path / "held")))
    policy.chmod(0o755)
    answer = lambda *args: subprocess.run([str(policy), *args]).returncode
    assert answer("ssh.service", "restart") == 0 and answer("--quiet", "ssh", "restart", "5") == 0
    assert answer("dovecot", "status") == 0
    assert answer("dovecot.service", "restart") == 101 and answer("postfix", "start", "5") == 101
    assert (tmp_path / "held").read_text().splitlines() == ["dovecot.service restart", "postfix start 5"]


def test_a_host_on_the_new_release_with_starts_still_held_is_resumed_and_one_without_is_already_done():
    from fleetfab.upgrade.release import OnRelease

    check = OnRelease("release", "bookworm", "trixie")
    assert check.compare("bookworm\nfree\n") is None
    assert check.compare("trixie\nheld\n").action == "resume"
    assert check.compare("trixie\nfree\n").action == "already"
    assert check.compare("bullseye\nfree\n").action == "unhealthy"


def test_files_for_the_new_release_are_the_roles_files_and_folders_alone_with_no_handler():
    from fleetfab.resources import Directory, File, Service
    from fleetfab.upgrade.procedure import files_of

    class Mailish:
        def resources(self, ctx):
            return [File("/etc/x", "x"), Directory("/etc/d"), Service("dovecot")]

        def handlers(self, ctx):
            return {"reload": "doveadm reload"}

    only = files_of(Mailish())
    assert [type(r).__name__ for r in only.resources(None)] == ["File", "Directory"] and only.handlers(None) == {}


def test_a_vm_host_whose_guests_would_go_down_is_refused_unless_asked_and_an_unknown_release_is_named():
    from fleetfab.upgrade.release import refusal

    class Host:
        def __init__(self, name, hypervisor=None):
            self.name, self.hypervisor = name, hypervisor

    class Fleet:
        hosts = {"vmhost1": Host("vmhost1"), "guest1": Host("guest1", "vmhost1")}

    selected = [Fleet.hosts["vmhost1"]]
    assert "guest1" in refusal(Fleet, selected, "trixie", guests_down=False)
    assert refusal(Fleet, selected, "trixie", guests_down=True) is None
    assert "bookworm -> trixie" in refusal(Fleet, selected, "forky", guests_down=True)
