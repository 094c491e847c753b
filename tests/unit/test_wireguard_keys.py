"""The private key is made on its host and never read back, printed, or planned."""

from __future__ import annotations

import os
import stat
import subprocess

import pytest

from fleetfab.roles.wireguard import WireGuard
from fleetfab.roles.wireguard.keys import NewPrivateKey, PrivateKey, generate_script
from fleetfab.roles.wireguard.sync import sync_script
from fleetfab.roles.wireguard.userspace import UserspaceFallback
from tests.unit.wireguard_fleet import context, desired, write_and_load

KEY = "/etc/wireguard/wg0.key"
PRIVATE = "eC1wcml2YXRlLWtleS1mb3ItdGVzdHMtb25seS14eHg="


def fake_tools(folder, **scripts) -> dict:
    """Stand-ins for wg and wg-quick on PATH; each one a small sh script."""
    for name, body in scripts.items():
        path = folder / name.replace("_", "-")
        path.write_text(f"#!/bin/sh\n{body}\n")
        path.chmod(0o755)
    return {"PATH": f"{folder}:/usr/bin:/bin"}


def sh(script: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(["sh", "-c", script], capture_output=True, text=True, env=env)


# -- the key file ----------------------------------------------------------------------


@pytest.mark.parametrize("output, action", [
    ("absent\n", "generate"),
    ("root root 644\n", "metadata"),
    ("ops root 600\n", "metadata"),
    ("invalid\n", "conflict"),
    ("link\n", "conflict"),
])
def test_the_key_file_is_generated_once_and_kept_root_only(output, action):
    assert PrivateKey("/etc/wireguard/wg0.key").compare(output).action == action


def test_a_root_only_key_needs_nothing():
    assert PrivateKey("/etc/wireguard/wg0.key").compare("root root 600\n") is None


def test_probing_the_key_file_prints_its_metadata_never_its_content(tmp_path):
    key = tmp_path / "wg0.key"
    key.write_text(PRIVATE + "\n")
    key.chmod(0o600)
    result = sh(PrivateKey(str(key)).probe(), os.environ.copy())
    assert PRIVATE not in result.stdout + result.stderr
    owner = result.stdout.split()
    assert owner[2] == "600"


def test_a_file_that_is_not_a_key_is_reported_not_replaced(tmp_path):
    key = tmp_path / "wg0.key"
    key.write_text("-----BEGIN PRIVATE KEY-----\n")
    assert sh(PrivateKey(str(key)).probe(), os.environ.copy()).stdout == "invalid\n"


def test_generating_writes_a_0600_key_and_prints_nothing(tmp_path):
    env = fake_tools(tmp_path, wg=f"echo {PRIVATE}", chown="true")
    target = tmp_path / "etc" / "wg0.key"
    target.parent.mkdir()
    result = sh(generate_script(str(target)), env)
    assert result.returncode == 0, result.stderr
    assert (result.stdout, result.stderr) == ("", "")
    assert target.read_text() == PRIVATE + "\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in target.parent.iterdir()] == ["wg0.key"]


def test_rotation_always_replaces_the_key_and_plans_the_retired_public_key():
    change = NewPrivateKey("/etc/wireguard/wg0.key").compare("OLDPUBLICKEYxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx=\n")
    assert change.action == "rotate"
    assert change.summary == "new key pair; retiring public key OLDPUBLICKEYxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx="


# -- syncing keeps the key ----------------------------------------------------------------------


def test_sync_hands_wg_syncconf_the_key_from_its_file_not_from_a_command_line(tmp_path):
    """`wg syncconf` clears the key when the file has none, so the sync splices it in."""
    key = tmp_path / "wg0.key"
    key.write_text(PRIVATE + "\n")
    received = tmp_path / "received.conf"
    env = fake_tools(
        tmp_path,
        wg_quick="printf '[Interface]\\nListenPort = 51820\\n\\n[Peer]\\nPublicKey = P\\n'",
        wg=f'[ "$1" = syncconf ] && [ "$3" = /dev/stdin ] && cat > {received}',
    )
    result = sh(sync_script("wg0", str(key)), env)
    assert result.returncode == 0, result.stderr
    assert PRIVATE not in sync_script("wg0", str(key))
    assert received.read_text().splitlines()[:3] == ["[Interface]", f"PrivateKey = {PRIVATE}", "ListenPort = 51820"]


def test_sync_applies_nothing_when_the_stripped_config_is_broken(tmp_path):
    key = tmp_path / "wg0.key"
    key.write_text(PRIVATE + "\n")
    called = tmp_path / "called"
    env = fake_tools(tmp_path, wg_quick="exit 1", wg=f"touch {called}")
    result = subprocess.run(["sh", "-ec", sync_script("wg0", str(key))], capture_output=True, text=True, env=env)
    assert result.returncode != 0 and not called.exists()


# -- nothing the engine prints or plans carries a key ----------------------------------------------


def test_no_resource_text_names_or_reads_a_private_key(tmp_path):
    """Probes, contents, plans, diffs and fixes: the key is only ever generated into its file."""
    inventory = write_and_load(tmp_path)
    ctx = context(inventory, "alpha")
    resources = list(WireGuard().prepare(ctx)) + list(desired(inventory, "alpha").values())
    texts = [r.probe() for r in resources] + [getattr(r, "content", "") for r in resources]
    for resource in resources:
        change = resource.compare("absent\n")
        if change is not None:
            texts += [change.summary, change.diff, resource.fix(change)]
    assert not any("PrivateKey" in t for t in texts)
    assert not any(f"cat {KEY}" in t for t in texts)


def test_wireguard_go_is_installed_only_where_the_kernel_has_no_module():
    fallback = UserspaceFallback()
    assert fallback.compare("kernel\nmissing\n") is None
    assert fallback.compare("userspace\ninstalled\n") is None
    assert fallback.compare("userspace\nmissing\n").data == ("wireguard-go",)
