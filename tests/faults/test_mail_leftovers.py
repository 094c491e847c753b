"""A mailbox taken out of the inventory, on the lab's mail1: its mail stays on disk, drift reports
it as left over, a bootstrap leaves it, and mail.remove-mailbox removes it (moved aside, or with
--delete-mail deleted). Only mail1 is run against; it ends converged, as it started."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from fleetfab.lab.paths import inventory_path
from tests.faults.conftest import FaultLab

HOST = "mail1"
DAVE = "/var/vmail/example.com/dave"
ERIN = "/var/vmail/example.com/erin"
LEFTOVERS = "mailboxes not in the inventory (/var/vmail)"


@pytest.fixture(scope="module")
def mail1(pytestconfig, tmp_path_factory) -> FaultLab:
    """The lab, used on mail1 alone (no fleet-wide converge): folders of two removed mailboxes planted."""
    if not shutil.which("docker") or subprocess.run(["docker", "info"], capture_output=True).returncode != 0:
        pytest.skip("the lab's docker engine does not answer: run ./run lab first")
    lab = FaultLab(inventory_path(pytestconfig.getoption("inventory", None)), tmp_path_factory.mktemp("leftovers"))
    code, run = lab.fab("-H", HOST, "bootstrap")
    assert code == 0, run.output
    for folder in (DAVE, ERIN):
        lab.sh(HOST, f"install -d -m 0700 {folder}/Maildir/new {folder}/Maildir/cur {folder}/Maildir/tmp && "
                     f"printf 'Subject: kept\\n\\nold mail\\n' > {folder}/Maildir/new/1.mail && chown -R vmail:vmail {folder}")
    yield lab
    lab.sh(HOST, f"rm -rf {DAVE} {ERIN} /var/vmail/example.com/.removed-*")
    code, run = lab.fab("-H", HOST, "bootstrap")
    assert code == 0, run.output


def leftover(document: dict) -> list[dict]:
    return [c for c in document["hosts"][HOST]["changes"] if c["resource"] == LEFTOVERS]


def test_drift_reports_a_removed_mailbox_as_left_over_with_its_mail_kept(mail1):
    code, run = mail1.fab("-H", HOST, "drift")
    assert code == 2, run.output
    [change] = leftover(run.document())
    assert change["action"] == "report"
    assert change["summary"].startswith("dave@example.com, erin@example.com: no longer in the inventory; the mail is kept")


def test_a_bootstrap_leaves_the_mail_where_it_is(mail1):
    code, run = mail1.fab("-H", HOST, "bootstrap")
    assert code == 0, run.output
    assert mail1.sh(HOST, f"cat {DAVE}/Maildir/new/1.mail").endswith("old mail\n")


def test_a_mailbox_still_in_the_inventory_is_refused_and_nothing_contacted(mail1):
    code, run = mail1.fab("-H", HOST, "mail.remove-mailbox", "alice@example.com", report=False)
    assert code == 1 and "is still a mailbox in the inventory" in run.output


def test_remove_mailbox_moves_the_mail_aside_and_drift_no_longer_names_it(mail1):
    code, run = mail1.fab("-H", HOST, "mail.remove-mailbox", "dave@example.com", report=False)
    assert code == 0, run.output
    kept = mail1.sh(HOST, "cat /var/vmail/example.com/.removed-dave-*/Maildir/new/1.mail")
    assert kept.endswith("old mail\n")
    assert mail1.sh(HOST, f"test -e {DAVE} && echo there || echo gone").strip() == "gone"
    code, run = mail1.fab("-H", HOST, "drift")
    [change] = leftover(run.document())
    assert change["summary"].startswith("erin@example.com: no longer")


def test_remove_mailbox_with_delete_mail_deletes_it_and_drift_is_clean(mail1):
    code, run = mail1.fab("-H", HOST, "mail.remove-mailbox", "erin@example.com", "--delete-mail", report=False)
    assert code == 0, run.output
    assert mail1.sh(HOST, f"test -e {ERIN} && echo there || echo gone").strip() == "gone"
    code, run = mail1.fab("-H", HOST, "drift")
    assert leftover(run.document()) == [] and code == 0, run.output
