"""One ACME key per certificates host, good only for the challenge records of its own names.

In the fleet of tests/unit/acme_fleet.py, ns1 holds the challenge zones of
edge1's names (www.example.com, example.com, *.apps.lab.test) and of one of
mail1's (mail1.lab.test); ns9 holds mail1's other (www.example.org).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from fleetfab.resources import Command
from fleetfab.roles.bind9 import Bind9
from fleetfab.roles.bind9.acmekeys import ACME_KEY_DIR, LEGACY_KEY, acme_export, acme_key_file, acme_key_name
from fleetfab.roles.certificates import Certificates
from tests.unit.acme_fleet import ACME_SECRET_NS1, ACME_SECRET_NS1_MAIL1, ACME_SECRET_NS9, INVENTORY, context

LOCAL = "file /etc/bind/named.conf.local"
EDGE1_ZONES = {"_acme-challenge.www.example.com", "_acme-challenge.example.com", "_acme-challenge.apps.lab.test"}
MAIL1_ZONE = "_acme-challenge.mail1.lab.test"
FORGET = "command forget the ACME keys of hosts that no longer certify names here"


@pytest.fixture
def inventory(load):
    return load(INVENTORY)


def bind9_state(inventory, host: str = "ns1") -> dict:
    return {r.key: r for r in Bind9().resources(context(inventory, host, "bind9"))}


def keygens(inventory, host: str = "ns1") -> dict[str, Command]:
    prefix = "command generate the ACME key of "
    return {r.key.removeprefix(prefix): r for r in Bind9().prepare(context(inventory, host, "bind9"))
            if r.key.startswith(prefix)}


def policies(conf: str) -> dict[str, list[str]]:
    """Each zone's update-policy rules in named.conf.local, by zone name."""
    found = {}
    for name, body in re.findall(r'zone "([^"]+)" \{(.*?)\n\};', conf, re.S):
        policy = re.search(r"update-policy \{ (.*) \};", body)
        found[name] = re.findall(r"[^;]+;", policy.group(1)) if policy else []
    return {name: [rule.strip() for rule in rules] for name, rules in found.items()}


def credentials(inventory, host: str, primary: str) -> str:
    state = {r.key: r for r in Certificates().resources(context(inventory, host, "certificates"))}
    return state[f"file /etc/fleetfab/acme/rfc2136-{primary}.ini"].content


# -- one key per certificates host --------------------------------------------------


def test_each_certificates_host_gets_its_own_key_name():
    assert acme_key_name("edge1") != acme_key_name("mail1")
    assert acme_key_file("edge1") == f"{ACME_KEY_DIR}/fleetfab-acme.edge1.key"


def test_an_acme_key_name_never_equals_a_transfer_key_name():
    # Transfer keys are fleetfab-<primary>, and host names have no dot.
    assert "." in acme_key_name("acme-ns1").removeprefix("fleetfab-")


def test_the_primary_makes_a_key_for_each_certificates_host_with_names_in_its_zones(inventory):
    assert set(keygens(inventory, "ns1")) == {"edge1", "mail1"}
    assert set(keygens(inventory, "ns9")) == {"mail1"}


def test_a_secondary_makes_no_acme_key(inventory):
    assert not keygens(inventory, "ns2")


def test_each_key_is_generated_on_the_primary_once(inventory):
    keygen = keygens(inventory)["mail1"]
    assert keygen.creates == acme_key_file("mail1")
    assert f"tsig-keygen -a hmac-sha256 {acme_key_name('mail1')}" in keygen.run
    assert keygen.notify == ("reconfig named",)


def test_each_key_is_a_secret_export_of_its_own(inventory):
    exports = Bind9().exports(context(inventory, "ns1", "bind9"))
    acme = {k: e for k, e in exports.items() if k.startswith("acme_tsig")}
    assert set(acme) == {acme_export("edge1"), acme_export("mail1")}
    assert all(e.secret for e in acme.values())
    assert acme_key_file("mail1") in acme[acme_export("mail1")].command


def test_a_secondary_exports_no_acme_key(inventory):
    assert not [k for k in Bind9().exports(context(inventory, "ns2", "bind9")) if k.startswith("acme_tsig")]


def test_a_certificates_host_is_given_only_its_own_key(inventory):
    edge1, mail1 = credentials(inventory, "edge1", "ns1"), credentials(inventory, "mail1", "ns1")
    assert f"dns_rfc2136_name = {acme_key_name('edge1')}\n" in edge1 and ACME_SECRET_NS1 in edge1
    assert f"dns_rfc2136_name = {acme_key_name('mail1')}\n" in mail1 and ACME_SECRET_NS1_MAIL1 in mail1
    assert ACME_SECRET_NS1 not in mail1 and ACME_SECRET_NS1_MAIL1 not in edge1


def test_a_host_gets_the_key_each_primary_made_for_it(inventory):
    assert ACME_SECRET_NS9 in credentials(inventory, "mail1", "ns9")


# -- named's update-policy ------------------------------------------------------------


def test_each_challenge_zone_grants_only_its_own_hosts_key_and_only_txt_at_its_name(inventory):
    rules = policies(bind9_state(inventory)[LOCAL].content)
    assert rules[MAIL1_ZONE] == [f"grant fleetfab-acme.mail1 name {MAIL1_ZONE}. TXT;"]
    for zone in EDGE1_ZONES:
        assert rules[zone] == [f"grant fleetfab-acme.edge1 name {zone}. TXT;"]


def test_no_key_is_granted_a_whole_zone_or_another_record_type(inventory):
    conf = bind9_state(inventory)[LOCAL].content
    assert "zonesub" not in conf and "subdomain" not in conf
    assert all(rule.endswith(" TXT;") for rules in policies(conf).values() for rule in rules)


def test_two_hosts_certifying_one_name_are_both_granted_its_challenge(load):
    inventory = load(INVENTORY.replace("names: [mail1.lab.test]", "names: [mail1.lab.test, www.example.com]"))
    rules = policies(bind9_state(inventory)[LOCAL].content)
    assert sorted(rules["_acme-challenge.www.example.com"]) == [
        "grant fleetfab-acme.edge1 name _acme-challenge.www.example.com. TXT;",
        "grant fleetfab-acme.mail1 name _acme-challenge.www.example.com. TXT;"]


def test_the_primary_includes_each_certificates_hosts_key(inventory):
    conf = bind9_state(inventory)[LOCAL].content
    for client in ("edge1", "mail1"):
        assert f'include "{acme_key_file(client)}";' in conf


def test_named_checkconf_accepts_the_rendered_configuration(inventory, tmp_path):
    if not shutil.which("named-checkconf"):
        pytest.skip("named-checkconf is not installed here (Debian: bind9-utils)")
    conf = bind9_state(inventory)[LOCAL].content
    for included in re.findall(r'include "([^"]+)";', conf):  # each key file, named as the role names it
        key = tmp_path / Path(included).name
        key.write_text(f'key "{key.stem}" {{ algorithm hmac-sha256; secret "{ACME_SECRET_NS1}"; }};\n')
        conf = conf.replace(included, str(key))
    (tmp_path / "named.conf").write_text(conf)
    done = subprocess.run(["named-checkconf", str(tmp_path / "named.conf")], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


# -- a host gone loses its key ---------------------------------------------------------


def without_mail1(load):
    host = "      mail1: {address: 198.18.0.41, groups: [mail]}\n"
    assert host in INVENTORY
    return load(INVENTORY.replace(host, ""))


def test_a_host_removed_from_the_inventory_loses_its_key(load):
    inventory = without_mail1(load)
    assert set(keygens(inventory)) == {"edge1"}
    assert acme_key_file("mail1") not in bind9_state(inventory)[LOCAL].content
    assert acme_export("mail1") not in Bind9().exports(context(inventory, "ns1", "bind9"))


def run_forget(command: Command, root: Path, local: Path) -> None:
    """The cleanup command run for real, on a copy of the key folders under `root`."""
    script = command.run.replace(ACME_KEY_DIR, str(root / "acme")).replace("/etc/bind/fleetfab-keys", str(root / "keys"))
    subprocess.run(["sh", "-c", script.replace("/etc/bind/named.conf.local", str(local))], check=True)


def test_the_primary_deletes_the_keys_of_hosts_gone_and_the_old_shared_key(inventory, tmp_path):
    (tmp_path / "acme").mkdir()
    (tmp_path / "keys").mkdir()
    kept, gone = (tmp_path / "acme" / Path(acme_key_file(c)).name for c in ("edge1", "web9"))
    shared = tmp_path / "keys" / Path(LEGACY_KEY.format(primary="ns1")).name
    transfer = tmp_path / "keys" / "fleetfab-ns1.key"
    for key in (kept, gone, shared, transfer):
        key.write_text("key\n")
    local = tmp_path / "named.conf.local"
    local.write_text(f'include "{kept}";\n')
    run_forget(bind9_state(inventory)[FORGET], tmp_path, local)
    assert kept.exists() and transfer.exists() and not gone.exists() and not shared.exists()


def test_a_key_named_conf_still_includes_is_never_deleted(inventory, tmp_path):
    (tmp_path / "acme").mkdir()
    (tmp_path / "keys").mkdir()
    gone = tmp_path / "acme" / Path(acme_key_file("web9")).name
    gone.write_text("key\n")
    local = tmp_path / "named.conf.local"
    local.write_text(f'include "{gone}";\n')
    run_forget(bind9_state(inventory)[FORGET], tmp_path, local)
    assert gone.exists()
