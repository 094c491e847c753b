"""The ops host's key, used as whoever holds the ops host would: fleetfab's read program, and nothing else.

From the ops host (the lab's `ops` group), as its drift account with its own
key, every other lab host is asked for commands of the attacker's choosing
(`id`, `sudo -n id`, `sudo -n /bin/sh -c id`), a request outside the read
program's vocabulary, and a forward to another host's SSH port. Each is
refused, and each refusal is in that host's journal, read back through the
lab's root access. The read program itself still answers every host.

Then sudo on its own, as the drift account (root's `runuser` stands for a
shell the attacker would not have): anything but the pinned program is
refused, a changed program and arguments too, and the order in which a
bootstrap replaces the program keeps sudo accepting the one in place.

The lab must be bootstrapped (the security stage runs after the bootstrap);
each test leaves the hosts as it found them.
"""

from __future__ import annotations

import base64
import hashlib
import re
import shlex
import subprocess
import time

import pytest

from fleetfab.readside import FORCED_COMMAND, PROGRAM
from fleetfab.roles.controller.pinned import SUDOERS_INSTALLED, after_program, before_program
from fleetfab.roles.controller.settings import ACCOUNT, KEY, SUDOERS
from fleetfab.ssh import known_name
from tests.security.lab_hosts import lab_hosts  # noqa: F401  (fixture)

#: what an attacker asks the key to run
COMMANDS = ("id", "sudo -n id", "sudo -n /bin/sh -c id")
#: a request the read program's vocabulary does not have
OUTSIDE = '{"op": "exec", "command": "id"}'
#: seconds a line may take to reach a host's journal (a bound on a wait, never a measure)
JOURNAL_WAIT = 15


# -- the lab's machines, as root -------------------------------------------------------


def as_root(lab, host, script: str) -> str:
    """A script run as root on `host`: docker exec, or the lab's SSH for a guest (no container of its own)."""
    if host.vm:
        done = subprocess.run(["ssh", "-F", str(lab.paths.ssh_config), "-o", "BatchMode=yes", host.name, script],
                              capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise AssertionError(f"{host.name}: {script!r} failed: {done.stderr}")
        return done.stdout
    return lab.sh(host.name, script)


def answered(lab, host, script: str) -> tuple[int, str]:
    """(exit status, output) of a script that is expected to fail sometimes."""
    out = as_root(lab, host, f"{{ {script}\n}} 2>&1; echo \"exit=$?\"")
    text, _, code = out.rstrip("\n").rpartition("exit=")
    return int(code), text


def cursor(lab, host) -> str:
    return as_root(lab, host, "journalctl -n 0 --show-cursor --no-pager").split("-- cursor: ", 1)[1].strip()


def logged(lab, host, after: str, pattern: str) -> str | None:
    """The first journal line after the cursor matching `pattern`, waiting for it up to JOURNAL_WAIT s; None if none came."""
    deadline = time.monotonic() + JOURNAL_WAIT
    while True:
        lines = as_root(lab, host, f"journalctl --after-cursor {shlex.quote(after)} --no-pager -o short")
        found = next((line for line in lines.splitlines() if re.search(pattern, line)), None)
        if found is not None or time.monotonic() > deadline:
            return found
        time.sleep(1)


def ops(lab):
    found = lab.inventory.with_role("controller")
    if not found:
        pytest.skip("the lab inventory has no ops host (controller role)")
    return found[0]


def others(lab) -> list:
    return [host for host in lab.inventory.hosts.values() if host.name != ops(lab).name]


# -- the attacker on the ops host --------------------------------------------------------


class Attacker:
    """The drift account on the ops host, with its key and an ssh_config of its own (in a fresh folder)."""

    def __init__(self, lab, folder: str):
        self.lab, self.folder, self.host = lab, folder, ops(lab)

    def ssh(self, target, *args: str, stdin: str | None = None) -> tuple[int, str]:
        feed = f"printf '%s\\n' {shlex.quote(stdin)} | " if stdin is not None else ""
        command = " ".join(shlex.quote(a) for a in args)
        ssh = f"runuser -u {ACCOUNT} -- ssh -F {self.folder}/config -p {target.port} {target.address} {command}"
        return answered(self.lab, self.host, feed + ssh + ("" if stdin is not None else " </dev/null"))


def host_key_line(lab, host) -> str:
    """The host's ed25519 key, read out of band (as root), as known_hosts records it."""
    kind, key = as_root(lab, host, "cat /etc/ssh/ssh_host_ed25519_key.pub").split()[:2]
    return f"{known_name(host)} {kind} {key}"


def ssh_config(lab, folder: str) -> str:
    """The account's key alone, the keys read out of band alone, no pty; a guest through its gateway."""
    lines = []
    for host in lab.inventory.hosts.values():
        if host.gateway is not None:
            lines += [f"Host {host.address}", f"  ProxyJump {ACCOUNT}@{host.gateway.address}:{host.gateway.port}"]
    lines += ["Host *", f"  User {ACCOUNT}", f"  IdentityFile {KEY}", "  IdentitiesOnly yes", "  BatchMode yes",
              f"  UserKnownHostsFile {folder}/known_hosts", "  StrictHostKeyChecking yes", "  ConnectTimeout 20",
              "  RequestTTY no", "  ForwardAgent no", "  ForwardX11 no"]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def attacker(lab_hosts):  # noqa: F811  (fixture)
    lab, host = lab_hosts, ops(lab_hosts)
    folder = as_root(lab, host, f"d=$(mktemp -d /tmp/ops-key-test.XXXXXX) && chown {ACCOUNT}: \"$d\" && echo \"$d\"").strip()
    known = "\n".join(host_key_line(lab, h) for h in lab.inventory.hosts.values()) + "\n"
    for name, text in (("known_hosts", known), ("config", ssh_config(lab, folder))):
        encoded = base64.b64encode(text.encode()).decode()
        as_root(lab, host, f"echo {encoded} | base64 -d > {folder}/{name} && chown {ACCOUNT}: {folder}/{name}")
    try:
        yield Attacker(lab, folder)
    finally:
        as_root(lab, host, f"rm -rf -- {shlex.quote(folder)}")


def elsewhere(lab, target):
    """Another lab host than `target` and the ops host: where a forward would go."""
    return next(h for h in others(lab) if h.name != target.name and h.gateway is None)


# -- through the key -----------------------------------------------------------------------


@pytest.mark.parametrize("command", COMMANDS)
def test_a_command_of_the_attackers_is_refused_and_logged_on_every_other_host(attacker, command):
    lab, failures = attacker.lab, {}
    for target in others(lab):
        mark = cursor(lab, target)
        code, output = attacker.ssh(target, command)
        if "uid=" in output:
            failures[target.name] = f"ran: {output.strip()}"
        elif not logged(lab, target, mark, rf"fleetfab-read\[\d+\]: {ACCOUNT}: refused: .*{re.escape(command)}"):
            failures[target.name] = f"refused (exit {code}: {output.strip()}) but no refusal naming it in the journal"
    assert failures == {}


def test_a_request_outside_the_read_programs_vocabulary_is_refused_and_logged_on_every_other_host(attacker):
    lab, failures = attacker.lab, {}
    for target in others(lab):
        mark = cursor(lab, target)
        code, output = attacker.ssh(target, FORCED_COMMAND, stdin=OUTSIDE)
        if '"refused"' not in output or "uid=" in output:
            failures[target.name] = f"answered (exit {code}): {output.strip()}"
        elif not logged(lab, target, mark, rf"fleetfab-read\[\d+\]: {ACCOUNT}: refused: request 'exec'"):
            failures[target.name] = "refused, but not in the journal"
    assert failures == {}


def test_a_forward_to_another_hosts_ssh_port_is_refused_and_logged_on_every_other_host(attacker):
    lab, failures = attacker.lab, {}
    for target in others(lab):
        away = elsewhere(lab, target)
        mark = cursor(lab, target)
        code, output = attacker.ssh(target, "-W", f"{away.address}:22")
        if code == 0 or "administratively prohibited" not in output:
            failures[target.name] = f"forwarded to {away.name} (exit {code}): {output.strip()[:200]}"
        elif not logged(lab, target, mark, rf"refused local port forward: .*target {re.escape(away.address)} port 22"):
            failures[target.name] = "refused, but sshd did not log it"
    assert failures == {}


def test_the_read_program_still_answers_the_ops_host_on_every_other_host(attacker):
    """The allowed path: the request a drift starts with (the host lock, shared) is answered."""
    lab, failures = attacker.lab, {}
    for target in others(lab):
        code, output = attacker.ssh(target, FORCED_COMMAND, stdin='{"op": "lock", "mode": "shared"}')
        if code != 0 or not re.search(r'^\{"(ok|busy)"', output, re.M):
            failures[target.name] = f"exit {code}: {output.strip()}"
    assert failures == {}


def test_the_ops_host_reaches_a_guest_through_its_vm_host_and_nowhere_else_from_there(attacker):
    lab = attacker.lab
    behind = [h for h in lab.inventory.hosts.values() if h.gateway is not None]
    if not behind:
        pytest.skip("the lab has no host reached through another")
    guest, gateway = behind[0], behind[0].gateway
    code, output = attacker.ssh(gateway, "-W", f"{guest.address}:{guest.port}")
    assert "SSH-2.0-OpenSSH" in output, output
    away = elsewhere(lab, guest)
    mark = cursor(lab, gateway)
    code, output = attacker.ssh(gateway, "-W", f"{away.address}:22")
    assert code != 0 and "administratively prohibited" in output, output
    assert logged(lab, gateway, mark, rf"connect to host {re.escape(away.address)} port 22, but the request was denied|"
                                      rf"refused local port forward: .*target {re.escape(away.address)} port 22")


def test_a_pty_is_refused(attacker):
    target = elsewhere(attacker.lab, ops(attacker.lab))
    code, output = attacker.ssh(target, "-tt", FORCED_COMMAND)
    assert "PTY allocation request failed" in output, output


# -- sudo on its own ---------------------------------------------------------------------------


def as_account(command: str) -> str:
    return f"runuser -u {ACCOUNT} -- {command}"


def test_sudo_refuses_the_drift_account_anything_but_the_read_program_on_every_other_host(attacker):
    lab, failures = attacker.lab, {}
    for target in others(lab):
        for command, shown in (("sudo -n id", "/usr/bin/id"), ("sudo -n /bin/sh -c id", "/bin/sh"),
                               (f"sudo -n {PROGRAM} --help", PROGRAM)):
            mark = cursor(lab, target)
            code, output = answered(lab, target, as_account(command) + " </dev/null")
            if code == 0 or "uid=0" in output:
                failures[f"{target.name}: {command}"] = output.strip()
            elif not logged(lab, target, mark, rf"sudo\[\d+\]:\s+{ACCOUNT} : .*COMMAND={re.escape(shown)}"):
                failures[f"{target.name}: {command}"] = "refused, but sudo did not log it"
    assert failures == {}


def sudo_runs_program(lab, host) -> bool:
    """Whether sudo runs the program at PROGRAM for the drift account now (it exits 0 given no request)."""
    code, output = answered(lab, host, as_account(f"sudo -n {PROGRAM}") + " </dev/null")
    return code == 0 and "sudo:" not in output


def write(lab, host, path: str, text: str, mode: str) -> None:
    """Root writes a file whole (checked by visudo first when it is a sudoers file), as a bootstrap would."""
    encoded = base64.b64encode(text.encode()).decode()
    check = 'visudo -cf "$t" >/dev/null && ' if path.startswith("/etc/sudoers.d/") else ""
    as_root(lab, host, f't=$(mktemp {shlex.quote(path)}.XXXXXX) && echo {encoded} | base64 -d > "$t" && chmod {mode} "$t" && '
                       f'{check}mv -f "$t" {shlex.quote(path)}')


def release_hosts(lab) -> list:
    """One host of each Debian release in the lab (their sudo versions differ), containers only."""
    chosen = {}
    for host in others(lab):
        if not host.vm:
            chosen.setdefault(as_root(lab, host, ". /etc/os-release; echo $VERSION_CODENAME").strip(), host)
    return list(chosen.values())


def test_sudo_refuses_a_changed_program(attacker):
    lab = attacker.lab
    for host in release_hosts(lab):
        installed = as_root(lab, host, f"cat {PROGRAM}")
        try:
            write(lab, host, PROGRAM, installed + "# changed\n", "0755")
            assert not sudo_runs_program(lab, host), host.name
        finally:
            write(lab, host, PROGRAM, installed, "0755")
        assert sudo_runs_program(lab, host), host.name


def converge_pin(lab, host, program: str) -> None:
    """The program and both rules as the current bootstrap writes them."""
    digest = hashlib.sha256(program.encode()).hexdigest()
    write(lab, host, PROGRAM, program, "0755")
    write(lab, host, SUDOERS, before_program(digest, PROGRAM).content, "0440")
    write(lab, host, SUDOERS_INSTALLED, after_program(digest, PROGRAM).content, "0440")


def test_a_new_program_is_installed_without_a_moment_when_sudo_refuses_the_one_in_place(attacker):
    """The bootstrap's order, step by step with the real sudo: the rule before, the program, the rule after.

    The host starts as a bootstrap with an older program left it, and ends as the current bootstrap leaves it.
    One rule alone, changed first, would refuse the older program still in place (the control).
    """
    lab = attacker.lab
    for host in release_hosts(lab):
        new = as_root(lab, host, f"cat {PROGRAM}")
        old = new + "# an older program\n"
        digest = {text: hashlib.sha256(text.encode()).hexdigest() for text in (old, new)}
        try:
            converge_pin(lab, host, old)
            assert sudo_runs_program(lab, host), f"{host.name}: the older program's own state"
            write(lab, host, SUDOERS_INSTALLED, after_program(digest[new], PROGRAM).content, "0440")
            write(lab, host, SUDOERS, before_program(digest[new], PROGRAM).content, "0440")
            assert not sudo_runs_program(lab, host), f"{host.name}: the control: both rules new, the older program in place"
            converge_pin(lab, host, old)
            steps = [(SUDOERS, before_program(digest[new], PROGRAM).content, "0440"), (PROGRAM, new, "0755"),
                     (SUDOERS_INSTALLED, after_program(digest[new], PROGRAM).content, "0440")]
            for path, text, mode in steps:
                write(lab, host, path, text, mode)
                assert sudo_runs_program(lab, host), f"{host.name}: refused after {path} was written"
            write(lab, host, PROGRAM, old, "0755")
            assert not sudo_runs_program(lab, host), f"{host.name}: the older program still runs after the replacement"
        finally:
            converge_pin(lab, host, new)
        assert sudo_runs_program(lab, host), host.name
