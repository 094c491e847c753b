"""Every role's free-form values follow the same rules: one line, and nothing their file's syntax reads as more."""

from __future__ import annotations

from tests.unit.validation_fleet import one_host


def test_a_time_server_with_a_newline_is_refused(problems):
    found = problems(one_host('base: {time: {servers: ["198.18.0.1\\nFallbackNTP=203.0.113.9"]}}'))
    assert len(found) == 1 and found[0].startswith("6: hosts.a.vars.base.time.servers[0]: expected a host name without control")


def test_time_servers_are_host_names_or_addresses(load):
    inventory = load(one_host("base: {time: {servers: [ntp1.example.net, 198.18.0.1, '2001:db8::123']}}"))
    assert inventory.hosts["a"].settings("base")["time"]["servers"] == ["ntp1.example.net", "198.18.0.1", "2001:db8::123"]


def test_a_postfix_value_with_a_newline_is_refused(problems):
    found = problems(one_host('mail: {postfix: {smtpd_banner: "$myhostname ESMTP\\nrelayhost = evil.example"}}'))
    assert len(found) == 1 and found[0].startswith("6: hosts.a.vars.mail.postfix.smtpd_banner: expected a value on one line without control")


def test_postfix_values_may_be_words_numbers_yes_no_nothing_or_lists(load):
    inventory = load(one_host("mail: {postfix: {a: reject_unauth_destination, b: 10, c: yes, d: null, e: [x, 2]}}"))
    assert inventory.hosts["a"].settings("mail")["postfix"]["e"] == ["x", 2]


def test_a_postfix_list_item_with_a_newline_is_refused(problems):
    found = problems(one_host('mail: {postfix: {smtpd_client_restrictions: [permit_mynetworks, "reject\\nrelayhost = x"]}}'))
    assert len(found) == 1 and "mail.postfix.smtpd_client_restrictions" in found[0] and "control characters" in found[0]


def test_a_kernel_command_line_cannot_close_its_xml_element(problems):
    found = problems(one_host("vmhost: {images: {deb: {cmdline: 'root=/dev/vda</cmdline><kernel>/etc/shadow'}}}"))
    assert found == ["6: hosts.a.vars.vmhost.images.deb.cmdline: expected a kernel command line (one line, no '<', '>' or '&'), "
                     "got 'root=/dev/vda</cmdline><kernel>/etc/shadow'"]


def test_an_ordinary_kernel_command_line_is_accepted(load):
    inventory = load(one_host("vmhost: {images: {deb: {cmdline: 'root=/dev/vda console=ttyS0 quiet'}}}"))
    assert inventory.hosts["a"].settings("vmhost")["images"]["deb"]["cmdline"] == "root=/dev/vda console=ttyS0 quiet"


def test_a_notify_command_may_be_any_shell_command_on_one_line(load):
    command = 'logger -t fleetfab "drift changed: $HOSTNAME 100%" && curl -fsS https://hooks.example.com/x; true'
    inventory = load(one_host(f"controller: {{notify: '{command}'}}"))
    assert inventory.hosts["a"].settings("controller")["notify"] == command


def test_an_edge_backend_with_more_than_host_and_port_is_refused(problems):
    found = problems(one_host("edge: {sites: {www: {certificate: www, backends: ['app1:80 backup#']}}}"))
    assert found == ["6: hosts.a.vars.edge.sites.www.backends[0]: expected host:port, got 'app1:80 backup#'"]


def test_an_edge_health_path_with_a_quote_is_refused(problems):
    found = problems(one_host("edge: {sites: {www: {certificate: www, backends: ['app1:80'], health: '/ping\"x'}}}"))
    assert len(found) == 1 and found[0].startswith("6: hosts.a.vars.edge.sites.www.health: expected a path")


def test_a_bind_record_value_with_a_newline_is_refused(problems):
    found = problems(one_host('bind9: {zones: {example.com: {records: [{name: www, type: A, value: "198.18.0.9\\n@ NS evil."}]}}}'))
    assert len(found) == 1 and "bind9.zones.example.com.records[0].value" in found[0] and "control characters" in found[0]


def test_a_mail_alias_target_with_a_newline_is_refused(problems):
    found = problems(one_host('mail: {domains: {example.com: {aliases: {info: ["alice\\nroot: evil@example.net"]}}}}'))
    assert len(found) == 1 and "mail.domains.example.com.aliases.info[0]" in found[0] and "control characters" in found[0]


def test_a_tls_path_with_a_dollar_is_refused(problems):
    found = problems(one_host("mail: {tls: {cert: /etc/ssl/$mydomain.pem, key: /etc/ssl/mail.key}}"))
    assert found == ["6: hosts.a.vars.mail.tls.cert: expected an absolute path, got '/etc/ssl/$mydomain.pem'"]


def test_a_pebble_dns_server_cannot_carry_an_ipv6_zone(problems):
    found = problems(one_host("acme_ca: {dns_server: '[fe80::1%eth0]:53'}"))
    assert len(found) == 1 and found[0].startswith("6: hosts.a.vars.acme_ca.dns_server: expected address:port")


def test_a_wireguard_endpoint_with_a_bad_zone_index_is_refused(problems):
    found = problems(one_host("wireguard: {endpoint: 'fe80::1%-x'}"))
    assert len(found) == 1 and "wireguard.endpoint: the zone index of 'fe80::1%-x' is not an interface name" in found[0]


def test_a_login_shell_is_an_absolute_path(problems):
    found = problems(one_host("base: {admins: [{name: ops, shell: 'bash -c id'}]}"))
    assert found == ["6: hosts.a.vars.base.admins[0].shell: expected an absolute path to a shell, got 'bash -c id'"]
