"""Rolling upgrades in the lab: a mail host upgraded from Debian 12 to 13 with mail flowing before and
right after, and a package upgrade that stops at the first host whose service broke.

The package upgrade needs something for apt to upgrade: this machine serves a
small apt repository (a stand-in package, 1.0 then 1.1) on the lab network, and
the hosts take it as one more source. Version 1.1 brings a service of its own
that fails to start on a host whose configuration it cannot handle (a file the
test puts on mail2 only): a real failure after a real upgrade, which no role
knows how to repair. Each test restores what it changed and converges the hosts
it touched (only those: these tests never bootstrap the whole lab).
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import shutil
import subprocess
import threading
import time
from pathlib import Path

import dkim
import pytest

from tests.faults.conftest import FaultLab
from fleetfab.lab.paths import inventory_path
from tests.infra.test_mail import fetch, message, name_server_txt, password, send_on_25, submission, unique_subject

MAIL_HOST = "mail2"
MAILBOX = "dave@corp.test"
#: in inventory order: the first is upgraded, the second breaks, the third is never touched
ROLLING = ("worker2", "mail2", "edge1")
BROKEN = "mail2"
PACKAGE = "fleetfab-standin"
MARKER = "/etc/fleetfab-standin-unsupported"
SOURCE = "/etc/apt/sources.list.d/fleetfab-upgrade-test.sources"
#: the lab host's address on the lab network, where lab machines reach this machine
REPO_ADDRESS = "198.18.0.1"
REPO_PORT = 18765


@pytest.fixture(scope="module")
def lab(pytestconfig, tmp_path_factory) -> FaultLab:
    """The lab, without the whole-lab bootstrap of the faults' own fixture: each test converges its hosts."""
    if not shutil.which("docker") or subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        pytest.skip("the lab's docker engine does not answer: run ./run lab first")
    lab = FaultLab(inventory_path(pytestconfig.getoption("inventory")), tmp_path_factory.mktemp("upgrade"))
    if MAIL_HOST not in lab.inventory.hosts:
        pytest.skip(f"the lab inventory has no {MAIL_HOST}")
    return lab


def converge(lab: FaultLab, *names: str) -> None:
    code, run = lab.fab("-H", ",".join(names), "bootstrap")
    assert code == 0, run.output


def codename(lab: FaultLab, name: str) -> str:
    return lab.sh(name, ". /etc/os-release; echo $VERSION_CODENAME").strip()


def returns_after_reboot(lab: FaultLab, name: str) -> None:
    """A lab machine is a container: systemd's exit for a reboot stops it, and only a restart policy brings
    it back by itself (a real machine's firmware does). Set on this one machine when its lab lacks it."""
    container = lab.container(name)
    policy = lab.docker("inspect", "-f", "{{.HostConfig.RestartPolicy.Name}}", container).strip()
    if policy in ("", "no"):
        lab.docker("update", "--restart", "unless-stopped", container)


# -- (a) Debian 12 -> 13 on a mail host ------------------------------------------------------------


def mail_flows(lab: FaultLab) -> None:
    """SMTP in on port 25, IMAP out, and a submitted message DKIM-signed and verified against the lab's name servers."""
    address = lab.inventory.hosts[MAIL_HOST].address
    subject = unique_subject()
    send_on_25(address, "sender@example.org", MAILBOX, subject)
    assert fetch(MAILBOX, subject, address) is not None, "a message on port 25 was not delivered"
    subject = unique_subject()
    with submission(address) as smtp:
        smtp.login(MAILBOX, password(MAILBOX))
        smtp.send_message(message(MAILBOX, MAILBOX, subject))
    raw = fetch(MAILBOX, subject, address)
    assert raw is not None and b"DKIM-Signature:" in raw
    assert dkim.verify(raw, dnsfunc=lambda name, timeout=5: name_server_txt(lab.inventory, name.decode().rstrip(".")))


def test_a_debian_12_mail_host_upgraded_to_13_accepts_and_delivers_mail_before_and_right_after(lab):
    if codename(lab, MAIL_HOST) != "bookworm":
        pytest.skip(f"{MAIL_HOST} runs {codename(lab, MAIL_HOST)} already: the proof needs the lab rebuilt (Debian 12 there)")
    converge(lab, MAIL_HOST)
    mail_flows(lab)
    returns_after_reboot(lab, MAIL_HOST)
    code, run = lab.fab("-H", MAIL_HOST, "release-upgrade", "--to", "trixie", report=False)
    assert code == 0, run.output
    assert codename(lab, MAIL_HOST) == "trixie"
    assert "reboot: back from its reboot" in run.output
    mail_flows(lab)
    code, drift = lab.fab("-H", MAIL_HOST, "drift")
    assert code == 0, drift.output


def test_the_release_upgrade_leaves_no_held_service_starts_and_a_journal_line(lab):
    if codename(lab, MAIL_HOST) != "trixie":
        pytest.skip(f"{MAIL_HOST} was not upgraded to trixie in this run")
    assert lab.sh(MAIL_HOST, "test -e /usr/sbin/policy-rc.d && echo held || echo free").strip() == "free"
    journal = lab.sh(MAIL_HOST, "tail -n 20 /var/log/fleetfab/journal.jsonl")
    assert '"command": "release-upgrade --to trixie"' in journal and '"action": "done"' in journal


# -- (b) a rolling package upgrade that stops at the first unhealthy host ----------------------------------


def build_package(folder: Path, version: str, with_service: bool) -> Path:
    """The stand-in package; 1.1 brings a service that fails where MARKER exists, and asks for a
    reboot as Debian's packages do (/run/reboot-required, its name in .pkgs)."""
    root = folder / f"{PACKAGE}-{version}"
    (root / "DEBIAN").mkdir(parents=True)
    (root / "DEBIAN" / "control").write_text(
        f"Package: {PACKAGE}\nVersion: {version}\nArchitecture: all\nMaintainer: fleetfab tests <tests@example.com>\n"
        f"Description: stand-in package for fleetfab's upgrade tests\n")
    if with_service:
        units = root / "lib" / "systemd" / "system"
        units.mkdir(parents=True)
        (units / f"{PACKAGE}.service").write_text(
            "[Unit]\nDescription=fleetfab stand-in service\n\n[Service]\nType=oneshot\nRemainAfterExit=yes\n"
            f"ExecStart=/bin/sh -c 'if [ -e {MARKER} ]; then echo unsupported configuration >&2; exit 1; fi'\n\n"
            "[Install]\nWantedBy=multi-user.target\n")
        postinst = root / "DEBIAN" / "postinst"
        postinst.write_text(f"#!/bin/sh\nset -e\nsystemctl daemon-reload || true\nsystemctl enable {PACKAGE}.service || true\n"
                            f"systemctl start {PACKAGE}.service || true\n"
                            "echo '*** System restart required ***' > /run/reboot-required\n"
                            f"echo {PACKAGE} >> /run/reboot-required.pkgs\n")
        postinst.chmod(0o755)
    deb = folder / f"{PACKAGE}_{version}_all.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "--build", str(root), str(deb)], check=True, capture_output=True)
    return deb


def publish(repo: Path, deb: Path) -> None:
    """A flat repository holding only `deb`: Packages and an unsigned Release (the source is marked trusted)."""
    for old in repo.glob("*.deb"):
        old.unlink()
    shutil.copy(deb, repo / deb.name)
    fields = subprocess.run(["dpkg-deb", "-f", str(deb)], check=True, capture_output=True, text=True).stdout.strip()
    data = deb.read_bytes()
    packages = f"{fields}\nFilename: ./{deb.name}\nSize: {len(data)}\nSHA256: {hashlib.sha256(data).hexdigest()}\n\n"
    (repo / "Packages").write_text(packages)
    digest = hashlib.sha256(packages.encode()).hexdigest()
    (repo / "Release").write_text(f"Origin: fleetfab-tests\nLabel: fleetfab-tests\nDate: {time.strftime('%a, %d %b %Y %H:%M:%S UTC', time.gmtime())}\n"
                                  f"SHA256:\n {digest} {len(packages.encode())} Packages\n")


@pytest.fixture
def repository(tmp_path):
    """This machine's apt repository on the lab network, served for the test's length."""
    repo = tmp_path / "repo"
    repo.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(repo))
    server = http.server.ThreadingHTTPServer((REPO_ADDRESS, REPO_PORT), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield repo
    server.shutdown()
    server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def installed_version(lab: FaultLab, name: str) -> str:
    return lab.sh(name, f"dpkg-query -W -f '${{Version}}' {PACKAGE} 2>/dev/null || true").strip()


def journal_lines(lab: FaultLab, name: str) -> int:
    return int(lab.sh(name, "wc -l < /var/log/fleetfab/journal.jsonl 2>/dev/null || echo 0").strip() or 0)


@pytest.fixture
def rolling_hosts(lab, repository, tmp_path):
    """The three hosts with the stand-in 1.0 installed from this machine's repository; restored afterwards."""
    publish(repository, build_package(tmp_path, "1.0", with_service=False))
    source = f"Types: deb\nURIs: http://{REPO_ADDRESS}:{REPO_PORT}/\nSuites: ./\nTrusted: yes\n"
    for name in ROLLING:
        lab.sh(name, f"printf '%s' '{source}' > {SOURCE} && apt-get -q update >/dev/null 2>&1; "
                     f"DEBIAN_FRONTEND=noninteractive apt-get install -y -q {PACKAGE}=1.0 >/dev/null")
    lab.sh(BROKEN, f"touch {MARKER}")
    converge(lab, *ROLLING)
    publish(repository, build_package(tmp_path, "1.1", with_service=True))
    yield repository
    for name in ROLLING:
        lab.sh(name, f"rm -f {MARKER}; DEBIAN_FRONTEND=noninteractive apt-get purge -y -q {PACKAGE} >/dev/null 2>&1; "
                     f"systemctl reset-failed {PACKAGE}.service 2>/dev/null; rm -f {SOURCE}; apt-get -q update >/dev/null 2>&1; true")
    converge(lab, *ROLLING)


def test_the_dry_run_shows_what_apt_would_upgrade_and_changes_nothing(lab, rolling_hosts):
    code, run = lab.fab("-H", ROLLING[0], "upgrade", "--dry", report=False)
    assert code == 0, run.output
    assert f"{PACKAGE} 1.0 -> 1.1" in run.output
    assert installed_version(lab, ROLLING[0]) == "1.0"


def test_a_rolling_upgrade_stops_at_the_host_whose_service_broke_and_leaves_the_next_untouched(lab, rolling_hosts):
    first, broken, untouched = ROLLING
    for name in ROLLING:
        returns_after_reboot(lab, name)
    before = journal_lines(lab, untouched)
    code, run = lab.fab("-H", ",".join(ROLLING), "upgrade", report=False)
    assert code == 1, run.output
    assert f"[{first}] reboot: back from its reboot" in run.output
    assert f"upgrade stopped at {broken}: after: unhealthy" in run.output and f"{PACKAGE}.service" in run.output
    assert installed_version(lab, first) == "1.1" and installed_version(lab, broken) == "1.1"
    assert installed_version(lab, untouched) == "1.0"
    assert journal_lines(lab, untouched) == before
    assert f"draining {first} skipped: no cluster runs" in run.output
