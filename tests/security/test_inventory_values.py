"""Inventory values that would become something else on a host are refused at load.

Each test writes a copy of the lab inventory with one bad value in it, runs
the real `fab -H cp1 drift` against the copy, and expects exit code 1, one
line naming the file, line and field, and no connection at all. Every host
of the copy is moved to a loopback listener of its own, so "nothing was
contacted" is seen, not assumed. No lab is needed.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LAB_INVENTORY = REPO / "inventory" / "lab.yml"
#: the line of the lab inventory that new base settings are written after
BASE_ANCHOR = "    packages: [curl, vim-tiny]\n"


class Listeners:
    """One TCP listener per host, on its own loopback address; counts connections."""

    def __init__(self):
        self.sockets: list[socket.socket] = []
        self.contacts: list[str] = []
        self._stop = threading.Event()

    def open(self, address: str) -> int:
        server = socket.socket()
        server.bind((address, 0))
        server.listen()
        server.settimeout(0.2)
        self.sockets.append(server)
        threading.Thread(target=self._accept, args=(server, address), daemon=True).start()
        return server.getsockname()[1]

    def _accept(self, server: socket.socket, address: str) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = server.accept()
            except (socket.timeout, OSError):
                continue
            self.contacts.append(address)
            connection.close()

    def close(self) -> None:
        self._stop.set()
        for server in self.sockets:
            server.close()


@pytest.fixture
def listeners():
    found = Listeners()
    yield found
    found.close()


def lab_copy(tmp_path: Path, listeners: Listeners, change) -> Path:
    """The lab inventory, every host on a loopback listener, its key paths
    absolute (the copy lives elsewhere), then `change(text)` applied."""
    text = LAB_INVENTORY.read_text()
    text = text.replace("identity: ../.lab/id_ed25519", f"identity: {tmp_path / 'id_ed25519'}")
    text = text.replace("known_hosts: ../.lab/known_hosts", f"known_hosts: {tmp_path / 'known_hosts'}\n"
                                                             "  connect_timeout: 3\n  read_timeout: 5")
    addresses = iter(range(1, 200))

    def to_loopback(match):
        address = f"127.0.0.{next(addresses)}"
        return f"address: {address}\n    port: {listeners.open(address)}"

    # The guest stays where it is: it is reached through its VM host, a listener too.
    text = re.sub(r"address: 198\.18\.0\.\d+", to_loopback, text)
    changed = change(text)
    assert changed != text, "the bad value was not written into the copy"
    target = tmp_path / "lab.yml"
    target.write_text(changed)
    return target


def with_base(setting: str):
    """A change that adds `setting` (YAML lines, at the base settings' indentation) to the fleet's base vars."""
    return lambda text: text.replace(BASE_ANCHOR, BASE_ANCHOR + setting)


def fab_drift(inventory: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "FLEETFAB_INVENTORY": str(inventory)}
    return subprocess.run([sys.executable, "-m", "fabric", "-H", "cp1", "drift"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)


def line_of(inventory: Path, pattern: str) -> int:
    """The number of the one line of `inventory` that matches `pattern`."""
    [number] = [n for n, line in enumerate(inventory.read_text().splitlines(), 1) if re.search(pattern, line)]
    return number


def assert_refused(inventory: Path, listeners: Listeners, line: int, field: str, run: subprocess.CompletedProcess):
    output = run.stdout + run.stderr
    assert run.returncode == 1, output
    assert f"{inventory}:{line}: {field}: " in output, output
    assert "nothing was contacted" in output, output
    assert listeners.contacts == []


def test_an_apt_proxy_carrying_an_apt_hook_is_refused(tmp_path, listeners):
    # Written as `Acquire::http::Proxy "<url>";`: the quote ends the value, and apt runs the hook as root.
    hook = 'http://198.18.0.1:3142";APT::Update::Pre-Invoke{"touch>/tmp/pwned";};//'
    inventory = lab_copy(tmp_path, listeners, with_base(f"    apt_proxy: '{hook}'\n"))
    run = fab_drift(inventory)
    assert_refused(inventory, listeners, line_of(inventory, r"^    apt_proxy:"), "vars.base.apt_proxy", run)


def test_an_extra_hosts_address_whose_zone_index_holds_a_newline_is_refused(tmp_path, listeners):
    change = with_base('    extra_hosts: {printer: "fe80::1%eth0\\n198.18.0.9 evil"}\n')
    inventory = lab_copy(tmp_path, listeners, change)
    run = fab_drift(inventory)
    assert_refused(inventory, listeners, line_of(inventory, r"^    extra_hosts:"), "vars.base.extra_hosts.printer", run)


def test_a_host_address_whose_zone_index_holds_a_newline_is_refused(tmp_path, listeners):
    def change(text):
        return re.sub(r"(  worker2:\n    address: )\S+", r'\1"fe80::1%eth0\\n198.18.0.9 evil"', text)

    inventory = lab_copy(tmp_path, listeners, change)
    run = fab_drift(inventory)
    worker2 = line_of(inventory, r"^  worker2:$")
    assert_refused(inventory, listeners, worker2 + 1, "hosts.worker2.address", run)


def test_a_sysctl_name_that_leads_out_of_proc_sys_is_refused(tmp_path, listeners):
    # Dots are levels and slashes dots: this name was read as /proc/sys/../../etc/passwd.
    forwarding = "      net.ipv4.ip_forward: 1\n"
    inventory = lab_copy(tmp_path, listeners, lambda text: text.replace(forwarding, forwarding + '      "//.//.etc.passwd": 1\n'))
    run = fab_drift(inventory)
    line = line_of(inventory, r"etc\.passwd")
    assert_refused(inventory, listeners, line, "vars.base.sysctls.//.//.etc.passwd", run)


def test_a_package_name_that_apt_would_read_as_an_option_is_refused(tmp_path, listeners):
    option = "-oAPT::Update::Pre-Invoke::=touch>/tmp/pwned"
    inventory = lab_copy(tmp_path, listeners, lambda text: text.replace(
        BASE_ANCHOR, f"    packages: [curl, vim-tiny, '{option}']\n"))
    run = fab_drift(inventory)
    assert_refused(inventory, listeners, line_of(inventory, r"^    packages:"), "vars.base.packages[2]", run)


def test_a_time_server_with_a_newline_is_refused(tmp_path, listeners):
    # An unpatterned string took a newline: a second line in timesyncd's drop-in.
    inventory = lab_copy(tmp_path, listeners, lambda text: text.replace(
        "      servers: [198.18.0.1]\n", '      servers: ["198.18.0.1\\nFallbackNTP=203.0.113.9"]\n'))
    run = fab_drift(inventory)
    assert_refused(inventory, listeners, line_of(inventory, r"^      servers:"), "vars.base.time.servers[0]", run)


def test_the_copy_without_a_bad_value_is_accepted_and_reaches_its_host(tmp_path, listeners):
    # The harness itself: without a bad value, the run gets as far as the host's listener.
    inventory = lab_copy(tmp_path, listeners, with_base("    domain: lab.test\n"))
    run = fab_drift(inventory)
    assert "nothing was contacted" not in run.stdout + run.stderr
    assert "127.0.0.1" in listeners.contacts
