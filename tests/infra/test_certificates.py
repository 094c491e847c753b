"""The certificates role: certificates issued by ACME over DNS-01 through the fleet's own primary."""

from __future__ import annotations

from fleetfab.shell import q
from fleetfab.roles.bind9.acmekeys import acme_key_name
from fleetfab.roles.bind9.challenges import challenge_name
from fleetfab.roles.certificates import credentials_path, primary_of
from fleetfab.roles.certificates.settings import combined, live

ROLE = "certificates"


def certificates(spec) -> dict:
    return spec.settings(ROLE)["certificates"]


def test_each_certificate_covers_exactly_its_names(host, spec):
    for name, cert in certificates(spec).items():
        text = host.run(f"openssl x509 -in {live(name, 'cert')} -noout -ext subjectAltName").stdout
        found = {n.strip().removeprefix("DNS:") for n in text.splitlines()[1].split(",")}
        assert found == set(cert["names"]), name


def test_each_certificate_chains_to_the_configured_ca(host, spec):
    for name in certificates(spec):
        issuer = host.run(f"openssl x509 -in {live(name, 'cert')} -noout -issuer").stdout
        # A fleet trusting a test CA gets pebble's certificates; any other, a public CA's.
        assert ("Pebble" in issuer) == bool(spec.settings(ROLE).get("trust")), issuer


def test_private_keys_and_the_combined_file_are_roots_alone(host, spec):
    for name in certificates(spec):
        key = host.file(host.file(live(name, "privkey")).linked_to)
        assert key.user == "root" and key.mode & 0o077 == 0, name
        assert host.file(combined(name)).mode & 0o077 == 0, name


def test_certbot_uses_this_hosts_own_acme_key(host, spec, inventory):
    for cert in certificates(spec).values():
        ini = credentials_path(primary_of(inventory, cert["names"]))
        assert host.run(f"sed -n 's/^dns_rfc2136_name = //p' {ini}").stdout.strip() == acme_key_name(spec.name)


def test_the_renewal_timer_is_active(host):
    assert host.service("certbot.timer").is_running and host.service("certbot.timer").is_enabled


def test_the_acme_key_cannot_change_any_other_record(host, spec, inventory):
    """Signed by the ACME key, an A record is refused in the zone and in the challenge zone alike."""
    name = next(n for c in certificates(spec).values() for n in c["names"] if not n.startswith("*."))
    primary = primary_of(inventory, [name])
    ini = credentials_path(primary)
    secret = host.run(f"sed -n 's/^dns_rfc2136_secret = //p' {ini}").stdout.strip()
    key = f"hmac-sha256:{acme_key_name(spec.name)}:{secret}"

    def update(zone: str, line: str) -> str:
        # check-names off: the refusal must come from named, not from nsupdate itself.
        script = f"check-names off\nserver {primary.address}\nzone {zone}\nupdate add {line}\nsend\n"
        result = host.run(f"printf '%s' {q(script)} | nsupdate -y {q(key)} 2>&1")
        return result.stdout + result.stderr

    parent = name.split(".", 1)[1] if name.count(".") > 1 else name
    assert "REFUSED" in update(parent, f"fleetfab-test.{parent}. 60 A 198.18.0.99")
    assert "REFUSED" in update(challenge_name(name), f"{challenge_name(name)}. 60 A 198.18.0.99")


def test_the_acme_key_may_write_a_challenge_token(host, spec, inventory):
    name = next(n for c in certificates(spec).values() for n in c["names"])
    primary = primary_of(inventory, [name])
    secret = host.run(f"sed -n 's/^dns_rfc2136_secret = //p' {credentials_path(primary)}").stdout.strip()
    zone = challenge_name(name)
    key = f"hmac-sha256:{acme_key_name(spec.name)}:{secret}"
    add = f"server {primary.address}\nzone {zone}\nupdate add {zone}. 60 TXT fleetfab-test\nsend\n"
    delete = f"server {primary.address}\nzone {zone}\nupdate delete {zone}. TXT fleetfab-test\nsend\n"
    assert host.run(f"printf '%s' {q(add)} | nsupdate -y {q(key)}").rc == 0
    assert "fleetfab-test" in host.run(f"dig +short TXT {zone} @{primary.address}").stdout
    assert host.run(f"printf '%s' {q(delete)} | nsupdate -y {q(key)}").rc == 0


def test_no_certificate_expires_within_the_renewal_margin(host, spec):
    seconds = spec.settings(ROLE)["renew_before_days"] * 86400
    for name in certificates(spec):
        assert host.run(f"openssl x509 -in {live(name, 'cert')} -noout -checkend {seconds}").rc == 0, name
