"""The lockout guard: the base role refuses a plan that would cut fleetfab's own access, unless forced."""

from __future__ import annotations

import subprocess

import pytest

from fleetfab.role import RoleContext
from tests.unit.debian_releases import BOOKWORM
from fleetfab.roles.base import Base
from fleetfab.roles.lockout import LockoutGuard, sudo_rule

OPS_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleKeyForTestsOnly ops@example.com"


@pytest.fixture
def identity(tmp_path):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "id_ed25519")], check=True)
    kind, data = (tmp_path / "id_ed25519.pub").read_text().split()[:2]
    return f"{kind} {data}"


@pytest.fixture
def guard_of(load, tmp_path, identity):
    """The guard of host `web` for an inventory whose host web logs in as `user` with `base` settings."""

    def make(user: str, base: str, force: bool = False, known: str = "ssh-ed25519") -> LockoutGuard:
        host_key = {"ssh-ed25519": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKeyForTestsOnlyHostKeyForTestsOnlyA",
                    "ecdsa": "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBHostKeyForTests"}[known]
        (tmp_path / "known_hosts").write_text(f"198.18.0.11 {host_key}\n")
        inventory = load(f"""
            ssh: {{user: {user}, identity: id_ed25519, known_hosts: known_hosts}}
            vars:
              base:
{base}
            hosts:
              web: {{address: 198.18.0.11, roles: [base]}}
        """)
        ctx = RoleContext(inventory, inventory.hosts["web"], "base", force=force, release=BOOKWORM)
        resources = list(Base().resources(ctx))
        assert isinstance(resources[0], LockoutGuard), "the guard comes before every change of the base role"
        return resources[0]

    return make


def admins(*lines: str) -> str:
    return "\n".join(" " * 16 + line for line in ("admins:" if lines else "admins: []", *lines))


def test_root_login_turned_off_while_fleetfab_logs_in_as_root_is_refused(guard_of):
    change = guard_of("root", " " * 16 + "ssh: {permit_root_login: 'no'}").compare("-\n")
    assert change.action == "refuse"
    assert "permit_root_login is 'no' while fleetfab logs in as root" in change.summary
    assert "--force" in change.summary and "exit 3" in LockoutGuard("root", change.data, False).fix(change)


def test_the_login_admin_losing_fleetfabs_key_is_refused(guard_of):
    change = guard_of("ops", admins(f"- {{name: ops, keys: ['{OPS_KEY}']}}")).compare("-\n")
    assert change.action == "refuse" and "authorized_keys would lose fleetfab's key" in change.summary


def test_the_login_admin_losing_sudo_is_refused(guard_of, identity):
    change = guard_of("ops", admins(f"- {{name: ops, sudo: false, keys: ['{identity} me']}}")).compare("-\n")
    assert change.action == "refuse" and "would lose sudo" in change.summary


def test_a_login_account_dropped_from_the_admins_keeps_its_sudo_rule_or_is_refused(guard_of):
    guard = guard_of("ops", admins("- {name: other}"))
    assert sudo_rule("ops") in guard.probe()
    change = guard.compare("granted\n")
    assert change.action == "refuse" and "would no longer list it" in change.summary
    assert guard.compare("-\n") is None, "a sudo rule from another file is not the base role's to remove"


def test_only_an_ecdsa_host_key_on_record_is_refused(guard_of):
    change = guard_of("root", admins(), known="ecdsa").compare("-\n")
    assert change.action == "refuse" and "known_hosts records none for this host" in change.summary


def test_an_inventory_that_keeps_fleetfabs_access_passes(guard_of, identity):
    assert guard_of("ops", admins(f"- {{name: ops, keys: ['{identity} me']}}")).compare("-\n") is None
    assert guard_of("root", admins("- {name: ops}")).compare("-\n") is None


def test_a_forced_run_passes_the_guard_and_notes_what_it_overrode(guard_of):
    guard = guard_of("root", " " * 16 + "ssh: {permit_root_login: 'no'}", force=True)
    assert guard.compare("-\n") is None
    assert guard.note("-\n").startswith("lockout guard overridden by --force: base.ssh.permit_root_login")
