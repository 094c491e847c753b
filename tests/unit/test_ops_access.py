"""What every host lets the ops host's key do: run fleetfab's read program, from the ops host, and nothing else.

The authorized_keys line (roles/controller/keyline.py) and the sudo rule that
pins the program (roles/controller/pinned.py), as the base role states them
on each host of fleets shaped like the lab: the ops host is also a VM host
whose guest is reached through it, most hosts are on a WireGuard mesh.
"""

from __future__ import annotations

import hashlib

import pytest

from fleetfab import readside
from fleetfab.exports import ExportBook
from fleetfab.redact import Redactor
from fleetfab.resources import File
from fleetfab.resources.blocked import Blocked
from fleetfab.role import RoleContext
from fleetfab.roles.controller.access import drift_account
from fleetfab.roles.controller.pinned import SUDOERS_INSTALLED, pinned_program
from fleetfab.roles.controller.settings import AUTHORIZED_KEYS, SUDOERS
from tests.unit.controller_fleet import OPS_PUBLIC_KEY
from tests.unit.vmhost_fleet import write_fleet

FORCED = 'command="sudo -n /usr/local/libexec/fleetfab/read"'

#: the lab's shape: the ops host hv1 is the VM host of g1 (NAT), hv2 a VM host of its own; a mesh without g1 and web2
FLEET = """
ssh:
  user: root
  identity: id_ed25519
groups:
  vmhosts:
    roles: [vmhost]
    vars:
      vmhost:
        emulation: qemu
        capacity: {cpus: 2, memory: 2048}
        networks:
          guests: {mode: nat, address: 198.18.100.1/24}
        images:
          bookworm: {file: images/bookworm.qcow2, kernel: images/vmlinuz, initrd: images/initrd.img}
  mesh:
    roles: [wireguard]
    vars:
      wireguard: {network: 100.64.0.0/24}
  ops:
    roles: [controller]
    vars:
      controller: {interval: 10min}
hosts:
  hv1:
    address: 198.18.0.51
    roles: [base]
    groups: [vmhosts, mesh, ops]
    vars: {wireguard: {address: 100.64.0.51}}
  hv2:
    address: 198.18.0.52
    roles: [base]
    groups: [vmhosts, mesh]
    vars:
      wireguard: {address: 100.64.0.52}
      vmhost:
        networks:
          guests: {mode: nat, address: 198.18.101.1/24}
  web1:
    address: 198.18.0.71
    roles: [base]
    groups: [mesh]
    vars: {wireguard: {address: 100.64.0.71}}
  web2:
    address: 198.18.0.72
    port: 2222
    roles: [base]
  g1:
    address: 198.18.100.11
    roles: [base]
    vm: {host: hv1, cpus: 1, memory: 512, disk: 4G}
  g2:
    address: 198.18.100.12
    roles: [base]
    vm: {host: hv1, cpus: 1, memory: 512, disk: 4G}
  g3:
    address: 198.18.101.13
    roles: [base]
    vm: {host: hv2, cpus: 1, memory: 512, disk: 4G}
"""


def loaded(write_inventory, text: str = FLEET):
    from fleetfab.inventory import load_inventory

    return load_inventory(write_fleet(write_inventory, text))


def context(inventory, host: str, ops: str = "hv1") -> RoleContext:
    book = ExportBook(Redactor())
    book.put(ops, "controller", "public_key", OPS_PUBLIC_KEY)
    return RoleContext(inventory, inventory.hosts[host], "base", book)


def resources(inventory, host: str) -> list:
    return drift_account(context(inventory, host))


def key_line(inventory, host: str) -> str:
    [keys] = [r for r in resources(inventory, host) if r.key == f"file {AUTHORIZED_KEYS}"]
    return keys.content


def options(line: str) -> list[str]:
    """The options of one authorized_keys line, split at the commas outside quotes."""
    found, current, quoted = [], "", False
    for char in line.rsplit(" ", 3)[0]:
        if char == "," and not quoted:
            found.append(current)
            current = ""
            continue
        quoted ^= char == '"'
        current += char
    return found + [current]


def sudoers(inventory, host: str, path: str) -> File:
    [found] = [r for r in resources(inventory, host) if r.key == f"file {path}"]
    return found


@pytest.fixture
def fleet(write_inventory):
    return loaded(write_inventory)


# -- the key line --------------------------------------------------------------


def test_a_host_on_the_mesh_accepts_the_key_from_the_ops_hosts_address_and_mesh_address_forced_to_the_read_program(fleet):
    assert key_line(fleet, "web1") == f'restrict,from="198.18.0.51,100.64.0.51",{FORCED} {OPS_PUBLIC_KEY}\n'


def test_a_host_off_the_mesh_accepts_it_from_the_ops_hosts_address_alone(fleet):
    assert key_line(fleet, "web2") == f'restrict,from="198.18.0.51",{FORCED} {OPS_PUBLIC_KEY}\n'


def test_restrict_comes_first_so_nothing_before_it_is_given_back(fleet):
    for host in fleet.hosts:
        assert options(key_line(fleet, host))[0] == "restrict"


def test_no_host_but_a_gateway_lets_the_key_forward_anything(fleet):
    for host in ("web1", "web2", "g1", "g2", "g3"):
        assert not [o for o in options(key_line(fleet, host)) if "forwarding" in o or o.startswith("permitopen")]


def test_the_ops_host_that_is_a_vm_host_lets_its_own_key_reach_exactly_its_guests_ssh_ports(fleet):
    assert options(key_line(fleet, "hv1")) == [
        "restrict", 'from="198.18.0.51,100.64.0.51"', FORCED,
        "port-forwarding", 'permitopen="198.18.100.11:22"', 'permitopen="198.18.100.12:22"']


def test_another_vm_host_opens_its_own_guest_alone(fleet):
    assert [o for o in options(key_line(fleet, "hv2")) if o.startswith("permitopen")] == ['permitopen="198.18.101.13:22"']


def test_a_guest_on_a_nat_network_accepts_the_key_from_its_vm_hosts_side_of_that_network_only(fleet):
    assert options(key_line(fleet, "g1"))[:3] == ["restrict", 'from="198.18.100.1"', FORCED]
    assert options(key_line(fleet, "g3"))[:3] == ["restrict", 'from="198.18.101.1"', FORCED]


def test_a_jump_host_opens_the_hosts_behind_it_and_they_accept_the_key_from_the_jump_host(write_inventory):
    fleet = loaded(write_inventory, """
        ssh: {user: root, identity: id_ed25519, jump: bastion}
        groups:
          ops: {roles: [controller], vars: {controller: {interval: 10min}}}
        hosts:
          bastion: {address: 198.18.0.5, roles: [base]}
          hv1: {address: 198.18.0.51, roles: [base], groups: [ops]}
          web1: {address: 198.18.0.71, roles: [base]}
    """)
    assert options(key_line(fleet, "web1"))[:3] == ["restrict", 'from="198.18.0.5"', FORCED]
    assert options(key_line(fleet, "bastion")) == [
        "restrict", 'from="198.18.0.51"', FORCED, "port-forwarding", 'permitopen="198.18.0.51:22"',
        'permitopen="198.18.0.71:22"']


def test_an_ipv6_destination_is_written_in_brackets_as_permitopen_reads_it(write_inventory):
    fleet = loaded(write_inventory, """
        ssh: {user: root, identity: id_ed25519, jump: bastion}
        groups:
          ops: {roles: [controller], vars: {controller: {interval: 10min}}}
        hosts:
          bastion: {address: "2001:db8::5", roles: [base]}
          hv1: {address: "2001:db8::51", roles: [base], groups: [ops]}
    """)
    assert 'permitopen="[2001:db8::51]:22"' in options(key_line(fleet, "bastion"))
    assert 'from="2001:db8::5"' in options(key_line(fleet, "hv1"))


def test_a_key_line_that_cannot_name_an_address_keeps_the_hosts_current_file(fleet):
    """The inventory takes only addresses for hosts; should a name get this far, it never reaches from=."""
    from dataclasses import replace

    fleet.hosts["hv1"] = replace(fleet.hosts["hv1"], address="hv1.example.com")
    [blocked] = [r for r in resources(fleet, "web2") if isinstance(r, Blocked)]
    assert blocked.keep == AUTHORIZED_KEYS and "not an IP address" in blocked.why


def test_the_key_line_is_the_last_of_the_drift_accounts_resources(fleet):
    assert resources(fleet, "web1")[-1].key == f"file {AUTHORIZED_KEYS}"


# -- sudo --------------------------------------------------------------------------


def test_sudo_allows_the_read_program_alone_pinned_by_its_digest_without_arguments(fleet):
    rules = [line for line in sudoers(fleet, "web1", SUDOERS).content.splitlines() if line.startswith("fleetfab ")]
    assert rules == [f'fleetfab ALL=(root) NOPASSWD: sha256:{readside.program_digest()} /usr/local/libexec/fleetfab/read ""']


def test_the_pinned_digest_is_the_sha256_of_the_programs_bytes():
    assert readside.program_digest() == hashlib.sha256(readside.program_text().encode()).hexdigest()


def defaults(fleet) -> str:
    [line] = [line for line in sudoers(fleet, "web1", SUDOERS).content.splitlines() if line.startswith("Defaults")]
    return line


def test_sudo_keeps_the_command_the_key_asked_for_so_the_program_can_log_its_refusal(fleet):
    assert defaults(fleet).startswith('Defaults:fleetfab env_keep += "SSH_ORIGINAL_COMMAND"')


def test_sudo_asks_the_passwordless_account_for_no_password_so_it_logs_each_refusal(fleet):
    assert defaults(fleet).endswith(", !authenticate")


def test_nothing_in_the_sudo_files_allows_all_or_another_command(fleet):
    for path in (SUDOERS, SUDOERS_INSTALLED):
        text = sudoers(fleet, "web1", path).content
        assert "ALL\n" not in text and text.count("NOPASSWD") == 1


def test_each_sudo_file_is_checked_by_visudo_and_is_roots_alone(fleet):
    for path in (SUDOERS, SUDOERS_INSTALLED):
        found = sudoers(fleet, "web1", path)
        assert (found.validate, found.owner, found.group, found.mode) == ("visudo -cf %s", "root", "root", "0440")


def test_sudoers_d_reads_the_second_file_a_name_without_a_dot():
    assert "." not in SUDOERS_INSTALLED.rsplit("/", 1)[1] and not SUDOERS_INSTALLED.endswith("~")


def test_the_program_is_installed_between_the_two_sudo_files(fleet):
    keys = [r.key for r in resources(fleet, "web1")]
    installed = [r.key for r in readside.host_resources(context(fleet, "web1"))]
    assert installed, "fleetfab.readside installs nothing"
    first, second = keys.index(f"file {SUDOERS}"), keys.index(f"file {SUDOERS_INSTALLED}")
    assert keys[first + 1:second] == installed


# -- a new program: the order of the writes -----------------------------------------


def allowed_digests(files: dict[str, str]) -> set[str]:
    """The digests sudo would accept for the program, from every sudoers.d file (as sudo reads them)."""
    found = set()
    for path, text in files.items():
        if path.startswith("/etc/sudoers.d/"):
            for line in text.splitlines():
                if line.startswith("fleetfab ") and "sha256:" in line:
                    found.add(line.split("sha256:", 1)[1].split()[0])
    return found


def test_while_a_new_program_is_installed_sudo_always_accepts_the_program_in_place():
    program = readside.PROGRAM
    old, new = "#!/usr/bin/python3\n# the program before\n", "#!/usr/bin/python3\n# the program after\n"
    digest = {text: hashlib.sha256(text.encode()).hexdigest() for text in (old, new)}
    host = {f.path: f.content for f in pinned_program(digest[old], program, [File(program, old, mode="0755")])}
    steps = pinned_program(digest[new], program, [File(program, new, mode="0755")])
    for step in steps:
        host[step.path] = step.content
        assert digest[host[program]] in allowed_digests(host), f"refused after writing {step.path}"
    assert allowed_digests(host) == {digest[new]}


# -- what the key asked for ----------------------------------------------------------------


@pytest.fixture
def read_host(tmp_path):
    from tests.unit.readside_program import ReadHost

    host = ReadHost(tmp_path)
    host.install(["echo hello"])
    yield host
    host.close()


def run_program(host, asked: str | None, request: bytes = b"") -> tuple[int, bytes]:
    import os
    import subprocess

    env = {k: v for k, v in os.environ.items() if k != "SSH_ORIGINAL_COMMAND"}
    if asked is not None:
        env["SSH_ORIGINAL_COMMAND"] = asked
    done = subprocess.run(host.command(), input=request, capture_output=True, timeout=60, cwd=host.folder, env=env)
    return done.returncode, done.stdout


def test_the_program_knows_the_command_the_key_is_forced_to():
    from fleetfab.readside import hostprogram

    assert hostprogram.ASKED == readside.FORCED_COMMAND


@pytest.mark.parametrize("asked", ["id", "sudo -n /bin/sh -c id", ""])
def test_a_command_the_key_asked_for_is_refused_and_logged_before_any_request_is_read(read_host, asked):
    code, output = run_program(read_host, asked, b'{"op": "lock"}\n')
    assert code == 2 and output.count(b"\n") == 1 and b'"refused": "the ops key asked to run' in output
    assert [line for line in read_host.logged() if f"refused: the ops key asked to run {asked!r}" in line]


def test_the_forced_command_itself_is_answered(read_host):
    code, output = run_program(read_host, readside.FORCED_COMMAND, b'{"op": "lock"}\n')
    assert code == 0 and output.startswith(b'{"ok": true}')
