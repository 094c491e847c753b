"""Secrets reach only who needs them, and do only what they are for.

A certificates host's ACME key is tried for real with `nsupdate` on that
host, against the primary that holds the challenge zones: it may write its
own names' challenge records and nobody else's. A mailbox's password hash,
changed in the inventory, is looked for in everything a dry bootstrap of the
ops host (which keeps a copy of the inventory) and of the mail host prints
and writes.

The hosts these tests read are converged first by a bootstrap of just those
hosts (the lab must be up).
"""

from __future__ import annotations

import shutil
import subprocess
import uuid

import pytest

from fleetfab.lab.paths import inventory_path
from fleetfab.roles.bind9.challenges import challenge_name
from fleetfab.roles.certificates import credentials_path, primary_of
from fleetfab.roles.controller.settings import INVENTORY
from fleetfab.roles.mail.passwords import hash_password
from tests.faults.conftest import FaultLab

#: the hosts these tests read: the primary, two certificates hosts, the ops host
HOSTS = ("ns1", "mail1", "edge1", "vmhost1")
ATTACKER, VICTIM = "mail1", "edge1"
MAILBOX = ("mail1", "example.com", "alice")


@pytest.fixture(scope="module")
def secret_lab(pytestconfig, tmp_path_factory) -> FaultLab:
    if not shutil.which("docker") or subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        pytest.skip("the lab's docker engine does not answer: run ./run lab first")
    lab = FaultLab(inventory_path(pytestconfig.getoption("inventory")), tmp_path_factory.mktemp("secrets"))
    code, run = lab.fab("-H", ",".join(HOSTS), "bootstrap")
    assert code == 0, run.output
    return lab


def certificate_names(lab, host: str) -> list[str]:
    return [n for spec in lab.inventory.hosts[host].settings("certificates")["certificates"].values()
            for n in spec["names"]]


def nsupdate_as(lab, host: str, primary, script: str) -> tuple[int, str]:
    """Run `script` through nsupdate on `host` with the ACME key certbot uses there.

    The key is read and used on the host itself: its secret never reaches
    this process, a command line or the test's output.
    """
    ini = credentials_path(primary)
    shell = (
        "set -u; d=$(mktemp -d); trap 'rm -rf \"$d\"' EXIT; "
        f"name=$(sed -n 's/^dns_rfc2136_name = //p' {ini}); "
        f"secret=$(sed -n 's/^dns_rfc2136_secret = //p' {ini}); "
        "printf 'key \"%s\" { algorithm hmac-sha256; secret \"%s\"; };\\n' \"$name\" \"$secret\" > \"$d/key\"; "
        f"printf '%s' '{script}' > \"$d/update\"; "
        "nsupdate -t 10 -k \"$d/key\" \"$d/update\" 2>&1; echo \"@exit $?\""
    )
    output = lab.sh(host, shell)
    code = int(output.rsplit("@exit ", 1)[1].strip())
    return code, output.rsplit("@exit ", 1)[0]


def update(primary, record: str, action: str, token: str) -> str:
    what = f"add {record} 60 TXT \"{token}\"" if action == "add" else f"delete {record} TXT \"{token}\""
    return f"server {primary.address}\nzone {record}\nupdate {what}\nsend\n"


def test_a_certificates_hosts_acme_key_writes_its_own_challenge_and_is_refused_another_hosts(secret_lab):
    lab = secret_lab
    primary = primary_of(lab.inventory, certificate_names(lab, ATTACKER))
    own, token = challenge_name(certificate_names(lab, ATTACKER)[0]), f"own-{uuid.uuid4().hex[:12]}"
    added = nsupdate_as(lab, ATTACKER, primary, update(primary, own, "add", token))
    deleted = nsupdate_as(lab, ATTACKER, primary, update(primary, own, "delete", token))
    assert added[0] == 0 and deleted[0] == 0, (added, deleted)

    victims, stolen = challenge_name(certificate_names(lab, VICTIM)[0]), f"stolen-{uuid.uuid4().hex[:12]}"
    code, output = nsupdate_as(lab, ATTACKER, primary, update(primary, victims, "add", stolen))
    if code == 0:  # the attack worked: take the record back before failing
        nsupdate_as(lab, ATTACKER, primary, update(primary, victims, "delete", stolen))
    assert code != 0 and "REFUSED" in output, output


def mailbox(document: dict) -> dict:
    host, domain, local = MAILBOX
    return document["hosts"][host]["vars"]["mail"]["domains"][domain]["mailboxes"][local]


def test_a_changed_password_hash_shows_nowhere_in_a_dry_bootstrap(secret_lab):
    lab = secret_lab
    new_hash = hash_password(f"scope-{uuid.uuid4().hex}")
    old_hash = {}

    def change(document):
        old_hash["value"] = mailbox(document)["password"]
        mailbox(document)["password"] = new_hash

    changed = lab.inventory_copy("password-changed", change)
    crypts = [h.partition("}")[2] for h in (old_hash["value"], new_hash)]
    for host in ("vmhost1", "mail1"):
        code, run = lab.fab("-H", host, "bootstrap", "--dry", inventory=changed)
        assert code in (0, 2), run.output
        shown = run.output + run.report.read_text()
        if host == "vmhost1":  # the ops host's copy of the inventory is due to change
            changes = run.document()["hosts"][host]["changes"]
            assert f"file {INVENTORY}" in [c["resource"] for c in changes], run.output
        assert not [c for c in crypts if c in shown], f"{host}: a password hash is shown:\n{run.output}"
