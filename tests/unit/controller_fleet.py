"""A small fleet with an ops host, for the controller role's specifications."""

from __future__ import annotations

OPS_FLEET = """
ssh:
  user: root
  identity: keys/id_ed25519
  known_hosts: known_hosts
  trust_on_first_use: true
run:
  parallel: 4
groups:
  ops:
    roles: [controller]
    vars:
      controller:
        interval: 5min
        notify: 'logger -t fleetfab "drift changed: $HOSTNAME 100%"'
hosts:
  ops1:
    address: 198.18.0.70
    groups: [ops]
    roles: [base]
  web1:
    address: 198.18.0.71
    user: deploy
    roles: [base]
  web2:
    address: 198.18.0.72
    port: 2222
    roles: [base]
"""

KNOWN_HOSTS = """\
198.18.0.70 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBHnW1QEnvwmU7kc8gIkyEp8mg7A6gyVoa3A4tcHb0Cs
[198.18.0.72]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK8Jc8k5D8pBvbSP8xW6XhmXKZJkzrX2y7Wl1bYhbkU0
198.18.0.99 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGd0Q2wYfEFl1JMWZ3WOqzDsXQ8r1VrdFmi7Ixb+4e1C
"""

OPS_PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBHnW1QEnvwmU7kc8gIkyEp8mg7A6gyVoa3A4tcHb0Cs fleetfab@ops1"


def book(unreadable: bool = False):
    from fleetfab.exports import ExportBook
    from fleetfab.redact import Redactor

    found = ExportBook(Redactor())
    if unreadable:
        found.unreadable("ops1", "connection refused")
    else:
        found.put("ops1", "controller", "public_key", OPS_PUBLIC_KEY)
    return found


def context(inventory, host: str, role: str, unreadable: bool = False):
    from fleetfab.role import RoleContext

    return RoleContext(inventory, inventory.hosts[host], role, book(unreadable))


def by_key(resources) -> dict:
    return {r.key: r for r in resources}
