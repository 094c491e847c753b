"""Where roles are found: the top-level `roles` package lists them."""

from __future__ import annotations

from functools import cache


@cache
def all_roles() -> dict:
    import fleetfab.roles as roles

    return dict(roles.ROLES)
