"""Every machine is a whole machine: booted, reachable, at its address, with its own identity."""

import pytest

BOOT_TIMEOUT = 90


@pytest.fixture(scope="session")
def host_keys(inventory, connect):
    """Each host's ed25519 host key, read from the host itself."""
    path = "/etc/ssh/ssh_host_ed25519_key.pub"
    return {name: connect(name).file(path).content_string.split()[1] for name in inventory.hosts}


def test_systemd_booted_with_no_unit_failed(host):
    state = host.run(f"timeout {BOOT_TIMEOUT} systemctl is-system-running --wait").stdout.strip()
    failed = host.run("systemctl --failed --no-legend --plain").stdout
    assert state == "running", f"system is {state}; failed units:\n{failed}"


def test_sshd_is_running_and_enabled(host):
    sshd = host.service("ssh")
    assert sshd.is_running and sshd.is_enabled


def test_inventory_address_is_on_one_of_its_interfaces(host, spec):
    addresses = {line.split()[3].split("/")[0] for line in host.check_output("ip -o addr show").splitlines()}
    assert spec.address in addresses


def test_host_key_is_shared_with_no_other_host(spec, host_keys):
    twins = [name for name, key in host_keys.items() if name != spec.name and key == host_keys[spec.name]]
    assert twins == []
