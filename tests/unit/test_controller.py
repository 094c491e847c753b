"""The controller role: an ops host that checks the fleet on a timer, from its own copy of the inventory."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
import yaml

from fleetfab.inventory import load_inventory
from fleetfab.resources.blocked import Blocked
from fleetfab.roles.controller.access import drift_account
from fleetfab.roles.controller.copy import ops_document, ops_inventory, ops_known_hosts
from fleetfab.roles.controller.settings import (ACCOUNT, AUTHORIZED_KEYS, FIRST_CHECK, HOME, INVENTORY, KEY, KNOWN_HOSTS,
                                                NOTIFY_ACCOUNT, NOTIFY_HOME, OUTBOX, SOURCE)
from fleetfab.roles.controller.units import RESTART, RESTART_COMMAND, scheduled_command, seconds, systemd_quoted
from tests.unit.controller_fleet import KNOWN_HOSTS as KNOWN_HOSTS_TEXT
from tests.unit.controller_fleet import OPS_FLEET, by_key, context


@pytest.fixture
def fleet(write_inventory):
    path = write_inventory(OPS_FLEET)
    (path.parent / "known_hosts").write_text(KNOWN_HOSTS_TEXT)
    return load_inventory(path)


def ops_resources(inventory):
    from fleetfab.roles.controller import Controller

    return by_key(Controller().resources(context(inventory, "ops1", "controller")))


# -- the ops host's copy of the inventory ----------------------------------------


def test_the_copy_logs_in_as_the_drift_account_with_the_ops_hosts_own_key(fleet):
    ssh = yaml.safe_load(ops_inventory(fleet))["ssh"]
    assert ssh == {"user": ACCOUNT, "identity": KEY, "known_hosts": KNOWN_HOSTS, "trust_on_first_use": False}


def test_the_copy_never_trusts_on_first_use_even_when_the_operators_inventory_does(fleet):
    assert yaml.safe_load(ops_inventory(fleet))["ssh"]["trust_on_first_use"] is False


def test_a_hosts_own_login_user_is_replaced_by_the_drift_account(fleet):
    assert "user" not in yaml.safe_load(ops_inventory(fleet))["hosts"]["web1"]


def test_the_copy_is_read_only(fleet):
    assert yaml.safe_load(ops_inventory(fleet))["run"] == {"parallel": 4, "ops_copy": True, "read_only": True}


def test_the_copy_keeps_everything_but_how_to_log_in(fleet):
    original = yaml.safe_load(fleet.path.read_text())
    copy = yaml.safe_load(ops_inventory(fleet))
    assert copy["groups"] == original["groups"]
    assert copy["hosts"]["web2"] == original["hosts"]["web2"]


def test_the_copy_made_again_from_itself_is_the_same_so_the_ops_host_sees_no_drift_in_it(fleet, tmp_path):
    first = ops_inventory(fleet)
    copied = tmp_path / "copy" / "fleet.yml"
    copied.parent.mkdir()
    copied.write_text(first)
    (copied.parent / "known_hosts").write_text("")
    again = load_inventory(copied)
    assert ops_inventory(again) == first


def test_the_copy_is_a_valid_inventory(fleet, tmp_path):
    copied = tmp_path / "fleet.yml"
    copied.write_text(ops_inventory(fleet))
    loaded = load_inventory(copied)
    assert set(loaded.hosts) == {"ops1", "web1", "web2"}
    assert loaded.read_only > 0


def test_only_the_fleets_verified_host_keys_go_to_the_ops_host(fleet):
    lines = ops_known_hosts(fleet).splitlines()
    assert [line.split()[0] for line in lines] == ["198.18.0.70", "[198.18.0.72]:2222"]


def test_a_document_without_ssh_or_run_sections_gets_both():
    doc = ops_document({"hosts": {"a": {"address": "198.18.0.5"}}})
    assert doc["ssh"]["user"] == ACCOUNT and doc["run"] == {"ops_copy": True, "read_only": True}


# -- what every host gives the ops host ------------------------------------------


def test_a_fleet_without_an_ops_host_has_no_drift_account(load):
    inventory = load("""
        hosts:
          web1: {address: 198.18.0.71, roles: [base]}
    """)
    assert drift_account(context(inventory, "web1", "base")) == []


def test_an_ops_host_never_read_blocks_only_the_key_and_keeps_the_hosts_copy(fleet):
    resources = drift_account(context(fleet, "web1", "base", unreadable=True))
    blocked = [r for r in resources if isinstance(r, Blocked)]
    assert len(blocked) == 1 and blocked[0].keep == AUTHORIZED_KEYS
    assert f"user {ACCOUNT}" in by_key(resources)


def test_the_base_role_carries_the_drift_account_on_every_host(fleet):
    from fleetfab.role import RoleContext
    from fleetfab.roles.base import Base
    from tests.unit.controller_fleet import book
    from tests.unit.debian_releases import BOOKWORM

    for host in fleet.hosts:
        ctx = RoleContext(fleet, fleet.hosts[host], "base", book(False), release=BOOKWORM)  # sshd is rendered per release
        assert f"file {AUTHORIZED_KEYS}" in by_key(Base().resources(ctx))


# -- the ops host ----------------------------------------------------------------


def test_the_ops_hosts_copy_is_validated_by_the_fleetfab_it_runs(fleet):
    copy = ops_resources(fleet)[f"file {INVENTORY}"]
    assert copy.validate.startswith("/opt/fleetfab/venv/bin/python -c")
    assert copy.mode == "0640" and copy.group == ACCOUNT


def test_fleetfab_is_installed_before_anything_that_runs_it(fleet):
    keys = list(ops_resources(fleet))
    assert keys.index("fleetfab /opt/fleetfab/venv") < keys.index(f"file {INVENTORY}")
    assert keys.index("fleetfab /opt/fleetfab/venv") < keys.index("file /etc/systemd/system/fleetfab-drift.service")


def test_the_timer_runs_a_check_an_interval_after_the_last_one_ended(fleet):
    timer = ops_resources(fleet)["file /etc/systemd/system/fleetfab-drift.timer"].content
    assert "OnUnitInactiveSec=5min" in timer and "Unit=fleetfab-drift.service" in timer


def test_the_service_runs_once_at_a_time_as_the_drift_account_with_a_time_limit(fleet):
    service = ops_resources(fleet)["file /etc/systemd/system/fleetfab-drift.service"].content
    assert "Type=oneshot" in service and f"User={ACCOUNT}" in service
    assert "TimeoutStartSec=10min" in service
    assert "--recorded-is-success" in service


def test_the_drift_inside_a_check_stops_before_the_time_limit_so_its_report_is_kept():
    command = scheduled_command({"textfile_dir": "/var/lib/node", "keep": 5, "time_limit": "10min"})
    assert "--drift-timeout 540" in command


def test_a_notification_command_reaches_systemd_as_one_argument_with_its_specials_escaped():
    assert systemd_quoted('logger "a" $HOME 100%') == '"logger \\"a\\" $$HOME 100%%"'


def test_spans_are_read_in_seconds():
    assert [seconds("90s"), seconds("15min"), seconds("2h")] == [90, 900, 7200]


def test_a_bad_interval_is_refused_with_file_line_and_field(write_inventory):
    from fleetfab.inventory import InputError

    path = write_inventory(OPS_FLEET.replace("interval: 5min", "interval: soon"))
    with pytest.raises(InputError) as caught:
        load_inventory(path)
    assert any((p.field, p.line) == ("groups.ops.vars.controller.interval", 13) for p in caught.value.problems), caught.value.problems


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed here")
@pytest.mark.parametrize("unit", ["fleetfab-drift.service", "fleetfab-drift.timer", "fleetfab-drift-notify.service"])
def test_the_units_pass_systemd_analyze_verify(fleet, tmp_path, unit):
    content = ops_resources(fleet)[f"file /etc/systemd/system/{unit}"].content
    # the virtualenv is not installed here: any program that exists stands in for it
    for program in ("/opt/fleetfab/venv/bin/fleetfab-scheduled", "/opt/fleetfab/venv/bin/python"):
        content = content.replace(program, shutil.which("true"))
    (tmp_path / unit).write_text(content)
    result = subprocess.run(["systemd-analyze", "verify", str(tmp_path / unit)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_a_guests_keys_are_left_to_its_vm_hosts_console_not_copied(write_inventory):
    from tests.unit.vmhost_fleet import write_fleet

    path = write_fleet(write_inventory)
    (path.parent / "known_hosts").write_text("198.18.0.51 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBHnW1QEnvwmU7kc8gIkyEp8mg7A6gyVoa3A4tcHb0Cs\n"
                                             "198.18.100.11 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK8Jc8k5D8pBvbSP8xW6XhmXKZJkzrX2y7Wl1bYhbkU0\n")
    text = path.read_text().replace("ssh:\n  user: root\n", "ssh:\n  user: root\n  known_hosts: known_hosts\n")
    path.write_text(text)
    names = [line.split()[0] for line in ops_known_hosts(load_inventory(path)).splitlines()]
    assert names == ["198.18.0.51"]



def test_a_guests_seed_is_not_compared_from_the_ops_hosts_copy(write_inventory, tmp_path):
    """The copy logs in as the ops host's account: a seed made from it would name that key, not the operator's."""
    from fleetfab.role import RoleContext
    from fleetfab.roles.vmhost import VmHost
    from tests.unit.vmhost_fleet import write_fleet

    operator = load_inventory(write_fleet(write_inventory))
    copied = tmp_path / "ops" / "fleet.yml"
    copied.parent.mkdir()
    copied.write_text(ops_inventory(operator))
    ops = load_inventory(copied)
    seed = by_key(VmHost().resources(RoleContext(ops, ops.hosts["hv1"], "vmhost")))["seed /var/lib/libvirt/images/fleetfab/seed/g1.iso"]
    assert ops.ops_copy and seed.compare("@absent") is None and seed.probe() == "true"
    assert "not compared from an ops host" in seed.note("@absent")


# -- the copy's source: which inventory the ops host checks against ---------------


def test_the_copy_names_the_digest_of_the_operators_inventory_beside_it(fleet):
    import hashlib

    source = ops_resources(fleet)[f"file {SOURCE}"]
    assert json.loads(source.content) == {"sha256": hashlib.sha256(fleet.path.read_bytes()).hexdigest()}


def test_the_source_made_again_on_the_ops_host_is_the_one_already_there(fleet, tmp_path):
    from fleetfab.roles.controller.copy import ops_source

    copied = tmp_path / "copy" / "fleet.yml"
    copied.parent.mkdir()
    copied.write_text(ops_inventory(fleet))
    (copied.parent / "known_hosts").write_text("")
    (copied.parent / "source.json").write_text(ops_source(fleet))
    assert ops_source(load_inventory(copied)) == ops_source(fleet)


# -- the schedule: the first check within a minute ---------------------------------


def test_the_first_check_comes_within_a_minute_of_the_timers_start(fleet):
    timer = ops_resources(fleet)["file /etc/systemd/system/fleetfab-drift.timer"].content
    spread = int(timer.split("RandomizedDelaySec=")[1].split("s")[0])
    assert f"OnActiveSec={FIRST_CHECK}" in timer and "AccuracySec=1s" in timer
    assert seconds(FIRST_CHECK) + spread + 1 <= 60


def test_any_change_to_fleetfab_its_copy_or_its_units_starts_the_timer_over(fleet):
    notifying = {key for key, r in ops_resources(fleet).items() if RESTART in r.notify}
    assert notifying == {"fleetfab /opt/fleetfab/venv", f"file {INVENTORY}", f"file {KNOWN_HOSTS}", f"file {SOURCE}",
                         "file /etc/systemd/system/fleetfab-drift.service", "file /etc/systemd/system/fleetfab-drift.timer",
                         "file /etc/systemd/system/fleetfab-drift-notify.service"}


def test_starting_over_reloads_systemd_and_restarts_the_timer_once_the_run_releases_the_host(fleet):
    from fleetfab.roles.controller import Controller
    from fleetfab.session import LOCK_FILE

    command = Controller().handlers(context(fleet, "ops1", "controller"))[RESTART]
    assert command.startswith("systemctl daemon-reload && systemd-run --quiet --no-block")
    assert command.endswith(f"flock -w 3600 -s {LOCK_FILE} systemctl restart fleetfab-drift.timer")


# -- the notification: an account that cannot read the key -------------------------


def test_the_check_runs_no_notification_command_and_starts_the_notification_unit_after_it(fleet):
    service = ops_resources(fleet)["file /etc/systemd/system/fleetfab-drift.service"].content
    assert "logger" not in service and "--notify " not in service
    assert "OnSuccess=fleetfab-drift-notify.service" in service and f"--outbox {OUTBOX}" in service


def test_the_notification_unit_runs_the_command_as_its_own_account_away_from_the_drift_home(fleet):
    unit = ops_resources(fleet)["file /etc/systemd/system/fleetfab-drift-notify.service"].content
    assert f"User={NOTIFY_ACCOUNT}" in unit and f"InaccessiblePaths=-{HOME}" in unit
    assert systemd_quoted('logger -t fleetfab "drift changed: $HOSTNAME 100%"') in unit


def test_the_notification_account_is_a_system_account_of_its_own(fleet):
    make = ops_resources(fleet)["command make the notification account"]
    assert "useradd --system --user-group" in make.run and "--shell /usr/sbin/nologin" in make.run
    assert " -G " not in make.run and " --groups " not in make.run  # in no group of the drift account's


def test_the_outbox_is_the_drift_accounts_and_only_readable_by_the_notification_accounts_group(fleet):
    box, home = ops_resources(fleet)[f"directory {OUTBOX}"], ops_resources(fleet)[f"directory {NOTIFY_HOME}"]
    assert (box.owner, box.group, box.mode) == (ACCOUNT, NOTIFY_ACCOUNT, "2750")
    assert (home.owner, home.mode) == (NOTIFY_ACCOUNT, "0755")


def test_without_a_notification_command_there_is_no_notification_unit_nor_account(write_inventory):
    path = write_inventory(OPS_FLEET.replace("        notify: 'logger -t fleetfab \"drift changed: $HOSTNAME 100%\"'\n", ""))
    (path.parent / "known_hosts").write_text(KNOWN_HOSTS_TEXT)
    keys = ops_resources(load_inventory(path))
    assert "file /etc/systemd/system/fleetfab-drift-notify.service" not in keys and f"directory {OUTBOX}" not in keys
    assert "OnSuccess" not in keys["file /etc/systemd/system/fleetfab-drift.service"].content


# -- a bootstrap that left the ops host out ---------------------------------------


def test_a_bootstrap_that_left_the_ops_host_out_ends_by_bringing_its_copy_up_to_date(fleet):
    from fleetfab.roles.controller import Controller

    step = Controller().after_bootstrap(fleet, [fleet.hosts["web1"]])
    assert step is not None and [h.name for h in step.args[1]] == ["ops1"]


def test_a_bootstrap_of_the_ops_host_itself_needs_no_second_step(fleet):
    from fleetfab.roles.controller import Controller

    assert Controller().after_bootstrap(fleet, [fleet.hosts["web1"], fleet.hosts["ops1"]]) is None


def test_the_ops_hosts_own_copy_never_refreshes_itself(fleet, tmp_path):
    from fleetfab.roles.controller import Controller

    copied = tmp_path / "fleet.yml"
    copied.write_text(ops_inventory(fleet))
    (tmp_path / "known_hosts").write_text("")
    ops = load_inventory(copied)
    assert Controller().after_bootstrap(ops, [ops.hosts["web1"]]) is None


def test_the_refresh_applies_only_the_copys_own_files_and_restarts_the_timer_on_a_change(fleet):
    from fleetfab.roles.controller.refresh import RefreshingCopy

    role = RefreshingCopy()
    resources = by_key(role.resources(context(fleet, "ops1", "controller")))
    assert set(resources) == {f"file {INVENTORY}", f"file {KNOWN_HOSTS}", f"file {SOURCE}"}
    assert all(RESTART in r.notify for r in resources.values())
    assert role.handlers(context(fleet, "ops1", "controller")) == {RESTART: RESTART_COMMAND}
