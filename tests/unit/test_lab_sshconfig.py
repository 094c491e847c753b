"""The lab ssh_config reaches each host at its inventory address, with the lab's key and known_hosts."""

from pathlib import Path

from fleetfab.inventory.model import Host, Inventory, SshSettings
from fleetfab.lab.sshconfig import render

KEY = Path("/repo/.lab/id_ed25519")
KNOWN = Path("/repo/.lab/known_hosts")


def host(name, address, lab=None, user="root", port=22):
    return Host(name=name, address=address, port=port, user=user, groups=("nodes",),
                roles=("base",), vars={}, lab=lab or {})


def inventory(*hosts, lab=None, ssh=None):
    return Inventory(path=Path("/repo/inventory/lab.yml"), hosts={h.name: h for h in hosts},
                     groups={}, ssh=ssh or SshSettings(), lab=lab or {})


def block(text, name):
    """The option lines of one `Host` block, as a dict."""
    lines = text.split(f"Host {name}\n", 1)[1].split("\n\n", 1)[0].splitlines()
    return dict(line.strip().split(" ", 1) for line in lines if line.strip())


def test_every_host_gets_its_own_block():
    text = render(inventory(host("ns1", "198.18.0.31"), host("ns2", "198.18.0.32")), KEY, KNOWN)
    assert [l for l in text.splitlines() if l.startswith("Host ")] == ["Host ns1", "Host ns2"]


def test_hostname_is_the_inventory_address():
    assert block(render(inventory(host("ns1", "198.18.0.31")), KEY, KNOWN), "ns1")["HostName"] == "198.18.0.31"


def test_user_and_port_come_from_the_host():
    opts = block(render(inventory(host("ns1", "198.18.0.31", user="ops", port=2200)), KEY, KNOWN), "ns1")
    assert (opts["User"], opts["Port"]) == ("ops", "2200")


def test_only_the_lab_key_is_offered():
    opts = block(render(inventory(host("ns1", "198.18.0.31")), KEY, KNOWN), "ns1")
    assert (opts["IdentityFile"], opts["IdentitiesOnly"]) == (str(KEY), "yes")


def test_host_keys_go_to_the_lab_known_hosts_and_are_accepted_only_when_new():
    opts = block(render(inventory(host("ns1", "198.18.0.31")), KEY, KNOWN), "ns1")
    assert (opts["UserKnownHostsFile"], opts["StrictHostKeyChecking"]) == (str(KNOWN), "accept-new")


def test_the_inventory_ssh_paths_win_over_the_lab_defaults():
    ssh = SshSettings(identity=Path("/keys/lab"), known_hosts=Path("/keys/known"))
    opts = block(render(inventory(host("ns1", "198.18.0.31"), ssh=ssh), KEY, KNOWN), "ns1")
    assert (opts["IdentityFile"], opts["UserKnownHostsFile"]) == ("/keys/lab", "/keys/known")

