"""The two ways the running interface is brought to wg0.conf.

`sync` keeps every tunnel whose peer did not change: `wg syncconf` adds,
changes and removes only the peers that differ.

But `wg syncconf` (like `setconf`) treats a file without PrivateKey as "no
private key": tried on the lab's wireguard-go, the interface's public key
reads `(none)` afterwards, and in the kernel a changed private key resets
every session. wg0.conf holds no key, so the key is spliced into the stripped
configuration on the host, in a pipe: it goes from the key file through awk
(which reads it itself: not in any command line) into `wg syncconf` on
/dev/stdin, never into a file or out of the host. Unchanged, it leaves every
session alone; after a rotation it loads the new key.

`restart` is for what only wg-quick sets up: the address and the MTU.
"""

from __future__ import annotations

from fleetfab.shell import q

SPLICE_KEY = 'BEGIN { getline key < keyfile } { print } /^\\[Interface\\][[:space:]]*$/ { print "PrivateKey = " key }'


def sync_script(interface: str, key_path: str) -> str:
    """Runs under `set -e`; dash has no pipefail, so each step that could
    leave `wg syncconf` a truncated file is checked before the pipe."""
    i = q(interface)
    return (
        f"stripped=$(wg-quick strip {i})\n"
        "printf '%s\\n' \"$stripped\" | grep -qx '\\[Interface\\]'\n"
        f"test -s {q(key_path)}\n"
        f"printf '%s\\n' \"$stripped\" | awk -v keyfile={q(key_path)} {q(SPLICE_KEY)} | wg syncconf {i} /dev/stdin"
    )


def restart_script(service: str) -> str:
    return f"systemctl restart {q(service)}"
