"""The certificates role: its checks, the Certificate resource on canned probe output,
certbot's command line, the ACME key's credentials file and the deploy hook."""

from __future__ import annotations

import shlex

import pytest

from fleetfab.resources import File
from fleetfab.resources.blocked import Blocked
from fleetfab.roles.certificates import Certificates
from fleetfab.roles.certificates.certificate import Certificate
from fleetfab.roles.certificates.settings import LETS_ENCRYPT, combined
from tests.unit.acme_fleet import ACME_SECRET_NS1, ACME_SECRET_NS9, INVENTORY, context, line_in

CREDENTIALS_NS1 = "/etc/fleetfab/acme/rfc2136-ns1.ini"
CREDENTIALS_NS9 = "/etc/fleetfab/acme/rfc2136-ns9.ini"


@pytest.fixture
def inventory(load):
    return load(INVENTORY)


def desired(inventory, host: str = "edge1", unreadable: tuple[str, ...] = ()) -> dict:
    return {r.key: r for r in Certificates().resources(context(inventory, host, "certificates", unreadable))}


def certbot_argv(command: str) -> list[str]:
    """certbot's arguments (the environment before it left out) from the issue or renew command."""
    [line] = [line for line in command.splitlines() if "certbot " in line]
    words = shlex.split(line)
    return words[words.index("certbot") + 1:]


def option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


# -- checks ---------------------------------------------------------------------

# One primary (ns1, example.com) and one host asking for certificates.
CHECKED = """
    groups:
      dns:
        roles: [bind9]
        vars:
          bind9:
            server: primary
            zones:
              example.com: {}
      other_dns:
        roles: [bind9]
        vars:
          bind9:
            server: primary
            zones:
              example.org: {}
      ca:
        roles: [acme_ca]
    hosts:
      ns1: {address: 198.18.0.31, groups: [dns]}
      ns9: {address: 198.18.0.39, groups: [other_dns]}
      ca1: {address: 198.18.0.51, groups: [ca]}
      web1:
        address: 198.18.0.61
        roles: [certificates]
        vars:
          certificates:
            trust: TRUST
            certificates: {www: {names: NAMES}}
"""


def checked(names: str, trust: str = "ca1") -> str:
    return CHECKED.replace("NAMES", names).replace("TRUST", trust)


def test_a_name_outside_every_fleet_zone_is_a_problem_with_its_line_and_field(problems):
    text = checked("[www.example.com, www.example.net]")
    found = problems(text)
    assert len(found) == 1
    line, field, message = found[0].split(": ", 2)
    assert int(line) == line_in(text, "certificates: {www:")
    assert field == "hosts.web1.vars.certificates.certificates"
    assert "www.example.net" in message and "www.example.com" not in message


def test_names_in_zones_of_two_primaries_are_refused(problems):
    [found] = problems(checked("[www.example.com, www.example.org]"))
    assert "hosts.web1.vars.certificates.certificates" in found and "different primaries" in found


def test_names_in_two_zones_of_one_primary_are_accepted(load):
    text = checked("[www.example.com, www.example.net]")
    both = text.replace("example.com: {}", "example.com: {}\n              example.net: {}")
    assert load(both).hosts["web1"]


def test_trust_naming_a_host_without_acme_ca_is_refused(problems):
    [found] = problems(checked("[www.example.com]", trust="ns1"))
    assert "hosts.web1.vars.certificates.trust" in found and "ns1 is no host carrying the acme_ca role" in found


def test_trust_naming_no_host_at_all_is_refused(problems):
    [found] = problems(checked("[www.example.com]", trust="nosuchhost"))
    assert "hosts.web1.vars.certificates.trust" in found


def test_trust_naming_an_acme_ca_host_is_accepted(load):
    assert load(checked("[www.example.com]")).hosts["web1"].settings("certificates")["trust"] == "ca1"


def test_the_default_directory_is_lets_encrypt(inventory):
    assert LETS_ENCRYPT == "https://acme-v02.api.letsencrypt.org/directory"
    assert inventory.hosts["mail1"].settings("certificates")["directory"] == LETS_ENCRYPT


def test_every_certified_name_asks_for_a_challenge_zone_for_its_host(inventory):
    claims = set(Certificates().dynamic_zones(inventory))
    assert claims == {("edge1", "www.example.com"), ("edge1", "example.com"), ("edge1", "*.apps.lab.test"),
                      ("mail1", "mail1.lab.test"), ("mail1", "www.example.org")}


# -- the Certificate resource on canned probe output ------------------------------

NAMES = ("www.example.com", "*.apps.lab.test")


def certificate() -> Certificate:
    return Certificate("www", NAMES, 30, issue="ISSUE-COMMAND", renew="RENEW-COMMAND")


def probed(names: str = "DNS:www.example.com,DNS:*.apps.lab.test", days: int = 80, key: str = "match") -> str:
    return f"@names {names}\n@days {days}\n@key {key}\n"


def test_an_absent_certificate_is_issued():
    change = certificate().compare("@absent\n")
    assert change.action == "issue" and "www.example.com" in change.summary


def test_a_certificate_for_other_names_is_reissued():
    change = certificate().compare(probed(names="DNS:www.example.com"))
    assert change.action == "reissue" and "*.apps.lab.test" in change.summary


def test_names_are_compared_without_regard_to_order_or_case():
    assert certificate().compare(probed(names="DNS:*.APPS.lab.test,DNS:www.example.com")) is None


def test_a_key_that_does_not_belong_to_the_certificate_means_a_reissue():
    change = certificate().compare(probed(key="mismatch"))
    assert change.action == "reissue" and "private key" in change.summary


def test_a_certificate_due_for_renewal_is_renewed_with_its_days_left_in_the_summary():
    change = certificate().compare(probed(days=12))
    assert change.action == "renew" and "12 days" in change.summary


def test_a_certificate_expiring_exactly_at_the_margin_is_not_yet_renewed():
    assert certificate().compare(probed(days=30)) is None


def test_a_good_certificate_is_left_alone():
    assert certificate().compare(probed()) is None


def test_issue_and_reissue_run_the_issue_command():
    resource = certificate()
    for output in ("@absent\n", probed(key="mismatch")):
        script = resource.fix(resource.compare(output))
        assert "ISSUE-COMMAND" in script and "RENEW-COMMAND" not in script


def test_a_renewal_runs_the_renew_command():
    resource = certificate()
    script = resource.fix(resource.compare(probed(days=3)))
    assert "RENEW-COMMAND" in script and "ISSUE-COMMAND" not in script


def test_the_renewal_margin_comes_from_renew_before_days(inventory):
    assert desired(inventory, "mail1")["certificate mail"].margin_days == 20


# -- certbot's command line --------------------------------------------------------


def issue(inventory, host: str = "edge1", name: str = "www") -> str:
    return desired(inventory, host)[f"certificate {name}"].issue


def test_certbot_proves_control_with_the_rfc2136_authenticator(inventory):
    assert option(certbot_argv(issue(inventory)), "--authenticator") == "dns-rfc2136"


def test_certbot_uses_the_credentials_of_the_primary_holding_the_names(inventory):
    assert option(certbot_argv(issue(inventory)), "--dns-rfc2136-credentials") == CREDENTIALS_NS1
    assert option(certbot_argv(issue(inventory, "mail1", "org")), "--dns-rfc2136-credentials") == CREDENTIALS_NS9


def test_certbot_runs_the_deploy_hook_of_the_certificate(inventory):
    assert option(certbot_argv(issue(inventory)), "--deploy-hook") == "/etc/fleetfab/acme/deploy-www"


def test_certbot_asks_the_configured_directory(inventory):
    assert option(certbot_argv(issue(inventory)), "--server") == "https://198.18.0.51:14000/dir"


def test_certbot_asks_lets_encrypt_by_default(inventory):
    assert option(certbot_argv(issue(inventory, "mail1", "mail")), "--server") == LETS_ENCRYPT


def test_certbot_names_the_certificate(inventory):
    assert option(certbot_argv(issue(inventory)), "--cert-name") == "www"


def test_certbot_asks_for_every_name_with_its_own_d(inventory):
    argv = certbot_argv(issue(inventory))
    asked = [argv[i + 1] for i, word in enumerate(argv) if word == "-d"]
    assert asked == ["www.example.com", "example.com", "*.apps.lab.test"]


def test_certbot_trusts_the_lab_ca_when_trust_is_set(inventory):
    [line] = [line for line in issue(inventory).splitlines() if "certbot " in line]
    assert line.startswith("REQUESTS_CA_BUNDLE=/etc/fleetfab/acme/ca.pem certbot ")


def test_certbot_trusts_no_other_ca_without_trust(inventory):
    assert "REQUESTS_CA_BUNDLE" not in issue(inventory, "mail1", "mail")
    assert "REQUESTS_CA_BUNDLE" not in desired(inventory, "mail1")["certificate mail"].renew


def test_the_renew_command_trusts_the_lab_ca_when_trust_is_set(inventory):
    renew = desired(inventory)["certificate www"].renew
    assert renew.startswith("REQUESTS_CA_BUNDLE=/etc/fleetfab/acme/ca.pem certbot renew ")
    assert option(certbot_argv(renew), "--cert-name") == "www"


def test_certbot_waits_for_the_primary_to_serve_every_challenge_zone_first(inventory):
    command = issue(inventory)
    before = command[:command.index("certbot ")]
    for zone in ("_acme-challenge.www.example.com", "_acme-challenge.example.com", "_acme-challenge.apps.lab.test"):
        assert f"dig +short +norecurse SOA {zone} @198.18.0.31" in before


def test_the_wait_for_the_challenge_zones_gives_up_with_an_error(inventory):
    command = issue(inventory)
    assert "until " in command and "exit 1" in command[:command.index("certbot ")]


def test_the_issue_command_carries_no_secret(inventory):
    for host in ("edge1", "mail1"):
        for resource in desired(inventory, host).values():
            if isinstance(resource, Certificate):
                for secret in (ACME_SECRET_NS1, ACME_SECRET_NS9):
                    assert secret not in resource.issue and secret not in resource.renew


def test_the_certbot_timer_trusts_the_lab_ca_when_trust_is_set(inventory):
    drop_in = desired(inventory)["file /etc/systemd/system/certbot.service.d/fleetfab.conf"]
    assert "Environment=REQUESTS_CA_BUNDLE=/etc/fleetfab/acme/ca.pem" in drop_in.content
    assert "REQUESTS_CA_BUNDLE" not in desired(inventory, "mail1")[drop_in.key].content


# -- the ACME key's credentials ------------------------------------------------------


def test_the_credentials_file_is_a_secret_only_root_reads(inventory):
    credentials = desired(inventory)[f"file {CREDENTIALS_NS1}"]
    assert isinstance(credentials, File) and credentials.secret and credentials.mode == "0600"


def test_the_credentials_file_holds_this_hosts_own_acme_key_from_the_primary(inventory):
    content = desired(inventory)[f"file {CREDENTIALS_NS1}"].content.splitlines()
    assert f"dns_rfc2136_secret = {ACME_SECRET_NS1}" in content
    assert "dns_rfc2136_name = fleetfab-acme.edge1" in content
    assert "dns_rfc2136_server = 198.18.0.31" in content


def test_each_primary_gets_its_own_credentials_file(inventory):
    state = desired(inventory, "mail1")
    assert f"dns_rfc2136_secret = {ACME_SECRET_NS9}" in state[f"file {CREDENTIALS_NS9}"].content
    assert ACME_SECRET_NS9 not in state[f"file {CREDENTIALS_NS1}"].content


def test_an_unreadable_primary_blocks_the_credentials_and_keeps_the_current_file(inventory):
    blocked = desired(inventory, unreadable=("ns1",))[f"file {CREDENTIALS_NS1}"]
    assert isinstance(blocked, Blocked) and blocked.keep == CREDENTIALS_NS1


def test_an_unreadable_primary_blocks_only_its_own_credentials(inventory):
    state = desired(inventory, "mail1", unreadable=("ns1",))
    assert isinstance(state[f"file {CREDENTIALS_NS1}"], Blocked)
    assert isinstance(state[f"file {CREDENTIALS_NS9}"], File)
    assert isinstance(state["certificate mail"], Certificate)


def test_the_trusted_ca_file_is_the_acme_cas_exported_api_certificate(inventory):
    assert desired(inventory)["file /etc/fleetfab/acme/ca.pem"].content.startswith("-----BEGIN CERTIFICATE-----\n")


# -- the deploy hook ------------------------------------------------------------------


def hook(inventory, host: str = "mail1", name: str = "mail") -> str:
    return desired(inventory, host)[f"file /etc/fleetfab/acme/deploy-{name}"].content


def test_the_deploy_hook_writes_chain_and_key_into_the_combined_file(inventory):
    script = hook(inventory)
    new = combined("mail") + ".new"
    assert f"cat /etc/letsencrypt/live/mail/fullchain.pem /etc/letsencrypt/live/mail/privkey.pem > {new}" in script
    assert f"mv {new} {combined('mail')}" in script


def test_the_combined_file_is_written_for_root_alone(inventory):
    script = hook(inventory).splitlines()
    assert script.index("umask 077") < next(i for i, line in enumerate(script) if line.startswith("cat "))


def test_the_deploy_hook_reloads_each_unit_only_if_it_is_active(inventory):
    script = hook(inventory)
    for unit in ("postfix", "dovecot"):
        assert f"if systemctl is-active -q {unit}; then systemctl reload {unit}; fi" in script


def test_the_deploy_hook_never_restarts(inventory):
    assert "restart" not in hook(inventory) and "restart" not in hook(inventory, "edge1", "www")


def test_the_deploy_hook_is_executable(inventory):
    assert desired(inventory, "mail1")["file /etc/fleetfab/acme/deploy-mail"].mode == "0755"
