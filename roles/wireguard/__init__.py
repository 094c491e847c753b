"""The WireGuard mesh role (see role.py), its resources, and key rotation."""

from fleetfab.roles.wireguard.role import WireGuard

__all__ = ["WireGuard"]
