"""Fabric's own command-line options that fleetfab does not honour, refused with what to use instead.

`fab` offers options for Fabric's connections and Invoke's command runner;
fleetfab reaches hosts from the inventory alone and runs no command through
Invoke, so such an option would be silently ignored (`-i key` logging in
with another key than the operator thinks) or end in a traceback (`-S`). A
run given one stops before any host is contacted.
"""

from __future__ import annotations

from invoke import Exit

#: core option name -> (as typed, what to do instead)
IGNORED = {
    "identity": ("-i/--identity", "fleetfab logs in with the inventory's key: set ssh.identity"),
    "ssh-config": ("-S/--ssh-config", "fleetfab reads no ssh_config: the inventory's ssh section "
                   "(user, port, identity, known_hosts, jump) says how each host is reached"),
    "connect-timeout": ("-t/--connect-timeout", "set ssh.connect_timeout in the inventory"),
    "command-timeout": ("-T/--command-timeout", "set ssh.read_timeout in the inventory (how long a host may stay silent)"),
    "prompt-for-login-password": ("--prompt-for-login-password", "fleetfab logs in with a key only (ssh.identity)"),
    "prompt-for-passphrase": ("--prompt-for-passphrase", "fleetfab logs in with the key in ssh.identity, which it reads unencrypted"),
    "prompt-for-sudo-password": ("--prompt-for-sudo-password", "fleetfab runs `sudo -n`: give the login user a NOPASSWD sudo rule, or log in as root"),
    "dry": ("-R/--dry", "a dry run is the task's own option: `fab bootstrap --dry`, or `fab drift`"),
    "echo": ("-e/--echo", "`fab -d` logs every command fleetfab runs"),
    "hide": ("--hide", "fleetfab prints its own tables; redirect them if unwanted"),
    "pty": ("-p/--pty", "fleetfab's commands never use a terminal on the host"),
    "warn-only": ("-w/--warn-only", "one host's failure never stops the others already; see the exit codes"),
}


def refusals(args) -> list[str]:
    """One line per Fabric option given that fleetfab would ignore: the option, then what to use instead."""
    return [f"{typed} is not used by fleetfab: {instead}" for name, (typed, instead) in IGNORED.items()
            if name in args and args[name].got_value]


def refuse_ignored(args) -> None:
    """Stop with every refused option, exit code 1, before anything is contacted."""
    lines = refusals(args)
    if lines:
        raise Exit("\n".join(lines + ["nothing was contacted."]), code=1)
