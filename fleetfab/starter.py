"""The starting inventory `fleetfab init` writes: valid as it is, and commented for the next steps.

It logs in as root for the first bootstrap and already declares the admin
account fleetfab switches to afterwards, with the operator's own key, so
the switch is one line (`ssh.user`). Every step is in the README's "Your
own fleet".
"""

from __future__ import annotations

from pathlib import Path

import yaml

TEMPLATE = """\
# Your fleet, as fleetfab reads it. Relative paths are resolved from this file's folder.
# Check it with `fleetfab inventory`; see the README's "Your own fleet" for each step.

ssh:
  # First bootstrap as root; then, once `{admin}` exists on every host, say `user: {admin}`.
  user: root
  identity: {identity}
  # Filled by `fleetfab -H HOSTS hostkeys.collect`, key by key, once you confirm them.
  known_hosts: known_hosts
  # A bastion every host is reached through (one of the hosts below), if you have one:
  # jump: bastion

groups:
  fleet:
    roles: [base]

vars:
  base:
    admins:
      # fleetfab's own login after the switch: keep your key and sudo here.
      - name: {admin}
        sudo: true
        keys:
          - {key}

hosts:{hosts}
"""


class StarterError(Exception):
    pass


def public_key(identity: str) -> str:
    """`<type> <base64> <comment>` of the identity's .pub file."""
    path = Path(f"{Path(identity).expanduser()}.pub")
    try:
        fields = path.read_text().split()
    except OSError:
        raise StarterError(f"{path}: no public key there; make one with ssh-keygen -t ed25519, or pass --identity") from None
    if len(fields) < 2:
        raise StarterError(f"{path}: not an SSH public key")
    return " ".join(fields[:3]) if len(fields) >= 3 else " ".join(fields)


def host_entries(spec: str | None) -> dict[str, str]:
    """`name=address,...` as given to --hosts."""
    found = {}
    for item in (spec or "").split(","):
        if not item.strip():
            continue
        name, sep, address = item.strip().partition("=")
        if not sep:
            raise StarterError(f"--hosts: {item.strip()!r} is not NAME=ADDRESS")
        found[name.strip()] = address.strip()
    return found


def render(admin: str, identity: str, key: str, hosts: dict[str, str]) -> str:
    if hosts:
        listed = "".join(f"\n  {name}: {{address: {address}, groups: [fleet]}}" for name, address in hosts.items())
    else:
        listed = " {}\n  # web1: {address: 198.51.100.10, groups: [fleet]}"
    return TEMPLATE.format(admin=admin, identity=yaml.safe_dump(identity).splitlines()[0].removesuffix("..."),
                           key=yaml.safe_dump(key, width=1000).splitlines()[0], hosts=listed)


def write_starter(path: Path, admin: str, identity: str, hosts: str | None) -> str:
    """Write the starting inventory at `path` (never over an existing file); the text written."""
    if path.exists():
        raise StarterError(f"{path} exists: fleetfab init never overwrites an inventory")
    text = render(admin, identity, public_key(identity), host_entries(hosts))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return text
