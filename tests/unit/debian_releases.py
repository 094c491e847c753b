"""Two hosts' releases as fleetfab reads them, recorded from the lab's Debian 12 and 13 machines.

The package versions are dpkg-query's answers on a bookworm and a trixie lab
machine (December 2026), so a role's rendering per release is tested against
what real hosts report.
"""

from __future__ import annotations

from fleetfab.release import Release

BOOKWORM = Release("debian", "12", "bookworm", {
    "openssh-server": "1:9.2p1-2+deb12u10", "systemd": "252.39-1~deb12u2", "certbot": "2.1.0-4",
    "wireguard-tools": "1.0.20210914-1+b1"})
TRIXIE = Release("debian", "13", "trixie", {
    "openssh-server": "1:10.0p1-7+deb13u4", "systemd": "257.13-1~deb13u1", "certbot": "4.0.0-2+deb13u1",
    "wireguard-tools": "1.0.20210914-3"})
