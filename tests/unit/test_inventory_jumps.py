"""Jump hosts in the inventory: where they are set, which wins, and the mistakes refused at load."""

from __future__ import annotations


def via(host):
    return host.gateway.name if host.gateway else None


def test_the_fleets_jump_reaches_every_host_but_the_bastion_itself(load):
    inventory = load("""
        ssh: {jump: bastion}
        hosts:
          bastion: {address: 198.18.0.1}
          web: {address: 198.18.0.2}
    """)
    assert via(inventory.hosts["web"]) == "bastion"
    assert via(inventory.hosts["bastion"]) is None


def test_a_groups_jump_wins_over_the_fleets_and_a_hosts_own_over_its_groups(load):
    inventory = load("""
        ssh: {jump: outer}
        groups:
          dmz: {jump: inner}
        hosts:
          outer: {address: 198.18.0.1}
          inner: {address: 198.18.0.2}
          web: {address: 198.18.0.3, groups: [dmz]}
          db: {address: 198.18.0.4, groups: [dmz], jump: outer}
    """)
    assert [via(inventory.hosts[n]) for n in ("inner", "web", "db")] == ["outer", "inner", "outer"]


def test_a_jump_host_behind_another_makes_a_chain(load):
    inventory = load("""
        hosts:
          outer: {address: 198.18.0.1}
          inner: {address: 198.18.0.2, jump: outer}
          web: {address: 198.18.0.3, jump: inner}
    """)
    web = inventory.hosts["web"]
    assert (web.gateway.name, web.gateway.gateway.name, web.gateway.gateway.gateway) == ("inner", "outer", None)


def test_an_unknown_jump_host_is_refused_at_its_line(problems):
    assert problems("""
        hosts:
          web:
            address: 198.18.0.3
            jump: bastoin
    """) == ["4: hosts.web.jump: unknown host 'bastoin': a jump host is a host of this inventory"]


def test_a_host_cannot_be_its_own_jump_host(problems):
    assert problems("""
        hosts:
          web: {address: 198.18.0.3, jump: web}
    """) == ["2: hosts.web.jump: web cannot be its own jump host"]


def test_jump_hosts_in_a_loop_are_refused(problems):
    assert problems("""
        hosts:
          a: {address: 198.18.0.1, jump: b}
          b: {address: 198.18.0.2, jump: a}
          c: {address: 198.18.0.3, jump: a}
    """) == ["2: hosts.a.jump: jump hosts in a loop: a -> b -> a"]


def test_a_jump_that_is_not_a_host_name_is_refused_by_its_shape(problems):
    found = problems("""
        ssh: {jump: "-oProxyCommand=x"}
        hosts:
          web: {address: 198.18.0.3}
    """)
    assert len(found) == 1 and found[0].startswith("1: ssh.jump:")


def test_a_guest_is_reached_through_its_vm_host_and_that_host_through_its_jump(load):
    inventory = load("""
        ssh: {jump: bastion, identity: id_ed25519}
        vars:
          vmhost:
            emulation: qemu
            networks: {guests: {mode: nat, address: 198.18.100.1/24}}
            images: {bookworm: {file: b.qcow2, kernel: vmlinuz, initrd: initrd.img}}
        hosts:
          bastion: {address: 198.18.0.1}
          hv: {address: 198.18.0.2, roles: [vmhost]}
          guest: {address: 198.18.100.10, vm: {host: hv}}
    """)
    guest = inventory.hosts["guest"]
    assert (via(guest), via(guest.gateway)) == ("hv", "bastion")


def test_a_guests_own_jump_is_refused(problems):
    assert problems("""
        ssh: {identity: id_ed25519}
        vars:
          vmhost:
            emulation: qemu
            networks: {guests: {mode: nat, address: 198.18.100.1/24}}
            images: {bookworm: {file: b.qcow2, kernel: vmlinuz, initrd: initrd.img}}
        hosts:
          bastion: {address: 198.18.0.1}
          hv: {address: 198.18.0.2, roles: [vmhost]}
          guest: {address: 198.18.100.10, vm: {host: hv}, jump: bastion}
    """) == ["10: hosts.guest.jump: guest is a VM guest reached through its VM host 'hv'; set the jump on that host instead"]
