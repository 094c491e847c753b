"""No password hash in any plan, diff or JSON: the Redactor masks them by their shape.

The ops host's copy of the inventory holds every mailbox's hash, and its
diff is shown like any file's; the host's old copy (the `-` side) holds
hashes that no run registers. So the Redactor knows what a hash looks like.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re

import pytest
from rich.console import Console

from fleetfab.redact import MASK, Redactor
from fleetfab.report.jsonfile import report_document
from fleetfab.report.model import ChangeRecord, HostReport
from fleetfab.report.render import changes_table, print_diffs
from fleetfab.role import RoleContext
from fleetfab.roles.controller.settings import INVENTORY as OPS_COPY
from fleetfab.roles.mail import USERS_FILE, Mail
from fleetfab.roles.mail.settings import HASH_SCHEMES, hash_problem
from tests.unit.mail_fleet import ALICE_HASH, BOB_HASH, BOOKWORM, INVENTORY, book

#: a storable hash of each scheme the mail role accepts (well-formed, made up)
SAMPLES = {
    "SHA512-CRYPT": "{SHA512-CRYPT}$6$saltsaltsalt$" + "a1B2./" * 14 + "xy",
    "SHA256-CRYPT": "{SHA256-CRYPT}$5$rounds=5000$saltsalt$" + "Zq9./" * 8 + "abc",
    "BLF-CRYPT": "{BLF-CRYPT}$2y$12$" + "Hk3./" * 10 + "abc",
    "ARGON2ID": "{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2g",
    "ARGON2I": "{ARGON2I}$argon2i$v=19$m=4096,t=3,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo",
}
#: what a mailbox's new hash is in the tests below
NEW_HASH = SAMPLES["SHA512-CRYPT"]
OPS_FLEET = INVENTORY.replace("    hosts:\n", "      ops:\n        roles: [controller]\n    hosts:\n").replace(
    "      mail1: {", "      ops1: {address: 198.18.0.70, groups: [ops]}\n      mail1: {")


def digest(value: str) -> str:
    """The part of a hash that guessing starts from: everything after the scheme."""
    return value.partition("}")[2]


def shown(reports: list[HostReport]) -> str:
    """Everything a dry bootstrap prints and writes about `reports`: table, diffs and JSON."""
    redact, out = Redactor(), io.StringIO()
    console = Console(file=out, width=300, color_system=None)
    console.print(changes_table(reports, redact, "plan (nothing was changed)"))
    print_diffs(console, reports, redact)
    return out.getvalue() + json.dumps(report_document("bootstrap --dry", reports, redact, 2))


def planned(host: str, role: str, resource, found: str) -> HostReport:
    """The report of `resource` compared with what the host printed (`found`)."""
    change = resource.compare(found)
    assert change is not None
    return HostReport(host, changes=[ChangeRecord(role, change)])


def test_every_scheme_the_mail_role_accepts_has_a_sample_here():
    assert set(SAMPLES) == set(HASH_SCHEMES) and not [s for s in SAMPLES.values() if hash_problem(s)]


@pytest.mark.parametrize("scheme", sorted(SAMPLES))
def test_the_redactor_masks_a_password_hash_it_was_never_told(scheme):
    masked = Redactor()(f"alice: {{password: '{SAMPLES[scheme]}'}}\n")
    assert digest(SAMPLES[scheme]) not in masked and f"'{MASK}'" in masked


def test_the_redactor_masks_a_bare_crypt_hash_as_a_shadow_file_holds_it():
    line = f"alice:{digest(ALICE_HASH)}:19000:0:99999:7:::"
    assert Redactor()(line) == f"alice:{MASK}:19000:0:99999:7:::"


@pytest.mark.parametrize("text", ['echo "$1$HOME" ${HOME}/bin', "price: $5$ each", "{PLAIN} alone", 'f"{SHA}"'])
def test_the_redactor_leaves_text_that_only_looks_like_the_start_of_a_hash(text):
    assert Redactor()(text) == text


@pytest.fixture
def ops_fleet(write_inventory):
    from fleetfab.inventory import load_inventory

    return load_inventory(write_inventory(OPS_FLEET))


def ops_copy(inventory):
    from fleetfab.roles.controller import Controller
    from tests.unit.controller_fleet import book as ops_book

    context = RoleContext(inventory, inventory.hosts["ops1"], "controller", ops_book())
    [copy] = [r for r in Controller().resources(context) if r.key == f"file {OPS_COPY}"]
    return copy


def test_a_password_hash_never_appears_in_a_dry_report_of_the_ops_hosts_inventory_copy(ops_fleet):
    copy = ops_copy(ops_fleet)
    on_host = copy.content.replace(digest(ALICE_HASH), digest(NEW_HASH))  # the copy before alice's change
    found = f"root fleetfab-drift 640\n{base64.b64encode(on_host.encode()).decode()}\n"
    text = shown([planned("ops1", "controller", copy, found)])
    assert not [h for h in (ALICE_HASH, BOB_HASH, NEW_HASH) if digest(h) in text], text
    changed = re.findall(rf"^([-+]) +password: '{MASK}'$", text, re.M)
    assert sorted(changed) == ["+", "-"], f"the copy's diff does not show alice's change:\n{text}"


def test_a_password_hash_never_appears_in_a_dry_report_of_the_mail_roles_passwd_file(load):
    inventory = load(INVENTORY)
    [users] = [r for r in Mail().resources(RoleContext(inventory, inventory.hosts["mail1"], "mail", book(), release=BOOKWORM))
               if r.key == f"file {USERS_FILE}"]
    old = users.content.replace(digest(ALICE_HASH), digest(NEW_HASH))
    found = f"root dovecot 640\n{hashlib.sha256(old.encode()).hexdigest()}  -\n"
    text = shown([planned("mail1", "mail", users, found)])
    assert USERS_FILE in text
    assert not [h for h in (ALICE_HASH, BOB_HASH, NEW_HASH) if digest(h) in text], text
