"""A service that fails to start or reload is reported in its own words, not systemctl's.

The scripts run in a real shell; `systemctl` and `journalctl` are stand-ins
on PATH that answer as Debian 13's did when Dovecot 2.4 met a 2.3
configuration (recorded on a trixie lab machine).
"""

from __future__ import annotations

import os
import subprocess
import threading

import pytest

from fleetfab import hostrun
from fleetfab.errors import command_message
from fleetfab.hostrun import HostRun
from fleetfab.redact import Redactor
from fleetfab.remote import Result
from fleetfab.resources import Service
from fleetfab.resources.unitwords import explained

#: the unit's own lines in its journal (systemd's own sentences about it are not among them)
DOVECOT_WORDS = ("master: Warning: Killed with signal 15 (by pid=6024 uid=0 code=kill)\n"
                 "doveconf: Fatal: Error in configuration file /etc/dovecot/dovecot.conf line 3: "
                 "The first setting must be dovecot_config_version\n")
POSTFIX_WORDS = ('postfix/master[3479]: warning: to change inet_protocols, stop and start Postfix\n'
                 'postfix/master[3479]: fatal: :::submission: Address family for hostname not supported\n')


@pytest.fixture
def host_bin(tmp_path):
    """A folder of stand-ins: systemctl fails `start`/`reload` of the units it is told to; journalctl prints their words."""
    words = tmp_path / "words"
    words.mkdir()
    (tmp_path / "systemctl").write_text(
        "#!/bin/sh\ncase $1 in start|reload|restart) ;; *) exit 0;; esac\n"
        f"if [ -e {words}/$2.service ]; then\n"
        "  printf 'Job for %s.service failed because the control process exited with error code.\\n' \"$2\" >&2\n"
        "  printf 'See \"systemctl status %s.service\" for details.\\n' \"$2\" >&2; exit 1\nfi\n")
    (tmp_path / "journalctl").write_text(
        f"#!/bin/sh\nfor a; do case $a in _SYSTEMD_UNIT=*) cat {words}/${{a#_SYSTEMD_UNIT=}} 2>/dev/null;; esac; done\n")
    for tool in ("systemctl", "journalctl"):
        os.chmod(tmp_path / tool, 0o755)
    return tmp_path


def failing(host_bin, unit: str, words: str) -> None:
    (host_bin / "words" / f"{unit}.service").write_text(words)


def sh(host_bin, script: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{host_bin}:{os.environ['PATH']}"}
    return subprocess.run(["sh", "-c", script], capture_output=True, text=True, env=env)


def test_a_service_that_fails_to_start_is_reported_in_its_own_words(host_bin):
    failing(host_bin, "dovecot", DOVECOT_WORDS)
    service = Service("dovecot")
    done = sh(host_bin, service.fix(service.compare("UnitFileState=enabled\nActiveState=failed\n")))
    assert done.returncode != 0
    assert command_message(done.stderr, done.stdout, done.returncode) == (
        "dovecot failed to start: doveconf: Fatal: Error in configuration file /etc/dovecot/dovecot.conf line 3: "
        "The first setting must be dovecot_config_version")


def test_the_units_last_lines_are_kept_beside_the_reason(host_bin):
    failing(host_bin, "dovecot", DOVECOT_WORDS)
    done = sh(host_bin, explained("set -e\nsystemctl start dovecot\n"))
    assert DOVECOT_WORDS in done.stderr


def test_a_unit_that_logged_nothing_keeps_systemctls_own_message(host_bin):
    failing(host_bin, "quiet", "")
    done = sh(host_bin, explained("set -e\nsystemctl start quiet\n"))
    assert done.returncode == 1 and "failed to start" not in done.stderr
    assert command_message(done.stderr) == "Job for quiet.service failed because the control process exited with error code."


def test_a_script_whose_systemctl_succeeds_prints_nothing_more(host_bin):
    done = sh(host_bin, explained("set -e\nsystemctl reload postfix\necho done\n"))
    assert (done.returncode, done.stdout, done.stderr) == (0, "done\n", "")


# -- handlers ---------------------------------------------------------------------------


class LocalRemote:
    """Runs each change's script in a shell of this machine, with the stand-ins on PATH."""

    connected = True

    def __init__(self, host_bin):
        self.host_bin = host_bin

    def run(self, script, role, what):
        done = sh(self.host_bin, script)
        return Result(done.returncode, done.stdout, done.stderr)


class Quiet:
    def step(self, host, text):
        pass


def test_a_handler_whose_reload_fails_reports_the_units_reason(host_bin, load, monkeypatch):
    monkeypatch.setattr(hostrun, "as_change", lambda script: script)  # no change lock outside a host
    failing(host_bin, "postfix", POSTFIX_WORDS)
    inventory = load("hosts:\n  h1: {address: 198.18.0.71}\n")
    run = HostRun(inventory, inventory.hosts["h1"], {}, Redactor(), Quiet(), apply=True, stop=threading.Event())
    run.remote, run.notified = LocalRemote(host_bin), ["reload postfix"]
    with pytest.raises(hostrun.StopHost):
        run.run_handlers("mail", {"reload postfix": "systemctl reload postfix"})
    assert run.report.error == ("handler 'reload postfix' failed: postfix failed to reload: "
                                "postfix/master[3479]: fatal: :::submission: Address family for hostname not supported")
