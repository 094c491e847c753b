"""A mailbox taken out of the inventory keeps its mail: drift reports its folder as left over,
a bootstrap leaves it, and only mail.remove-mailbox (moved aside, or --delete-mail) removes it."""

from __future__ import annotations

import pytest

from fleetfab.resources.base import REPORT
from fleetfab.roles.mail import Mail
from fleetfab.roles.mail.leftovers import LeftoverMailboxes, MailboxRemoved, address_of, refusal
from tests.unit.mail_fleet import INVENTORY, context

LEFTOVERS = "mailboxes not in the inventory (/var/vmail)"


@pytest.fixture
def inventory(load):
    return load(INVENTORY)


def leftovers(inventory) -> LeftoverMailboxes:
    return {r.key: r for r in Mail().resources(context(inventory))}[LEFTOVERS]


def test_the_mail_role_watches_for_mailboxes_left_over(inventory):
    assert leftovers(inventory).declared == ("alice@example.com", "bob@example.com", "carol@example.net")


def test_a_folder_of_a_mailbox_in_the_inventory_is_no_drift(inventory):
    assert leftovers(inventory).compare("example.com/alice\nexample.com/bob\nexample.net/carol\n") is None


def test_a_folder_of_a_removed_mailbox_is_reported_as_left_over(inventory):
    change = leftovers(inventory).compare("example.com/alice\nexample.com/dave\n")
    assert change.action == REPORT
    assert change.summary.startswith("dave@example.com: no longer in the inventory; the mail is kept in /var/vmail")
    assert "fab -H mail1 mail.remove-mailbox ADDRESS [--delete-mail]" in change.summary


def test_a_left_over_is_only_reported_a_bootstrap_changes_nothing(inventory):
    resource = leftovers(inventory)
    assert resource.fix(resource.compare("example.com/dave\n")) == "true\n"


@pytest.mark.parametrize("folder", ["example.com/.removed-dave-20261202T000000Z", "example.com/-rf", "example.com/Dave\x1b[31m", "lost+found"])
def test_a_folder_not_named_as_a_mailbox_is_not_read_as_one(folder):
    assert address_of(folder) is None


def test_removing_moves_the_folder_aside_and_keeps_the_mail():
    resource = MailboxRemoved("dave@example.com", delete=False, stamp="20261202T000000Z")
    change = resource.compare("present\n")
    assert change.action == "archive"
    assert "moved to /var/vmail/example.com/.removed-dave-20261202T000000Z (the mail is kept)" in change.summary
    assert "rm -rf" not in resource.fix(change)


def test_delete_mail_deletes_the_folder_as_the_vmail_account():
    resource = MailboxRemoved("dave@example.com", delete=True)
    change = resource.compare("present\n")
    assert change.action == "delete"
    script = resource.fix(change)
    assert "setpriv --reuid=vmail" in script and "rm -rf -- example.com/dave" in script


def test_a_folder_already_gone_is_no_change():
    assert MailboxRemoved("dave@example.com").compare("absent\n") is None


def test_a_mailbox_still_in_the_inventory_is_not_removed(inventory):
    why = refusal(inventory, inventory.hosts["mail1"], "alice@example.com")
    assert why == "alice@example.com is still a mailbox in the inventory: take it out there (and bootstrap) first"


def test_a_host_without_the_mail_role_is_refused(inventory):
    assert refusal(inventory, inventory.hosts["ns1"], "dave@example.com") == "ns1 has no mail role"


def test_a_removed_mailbox_on_a_mail_host_may_be_removed(inventory):
    assert refusal(inventory, inventory.hosts["mail1"], "dave@example.com") is None
