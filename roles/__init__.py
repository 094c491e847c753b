"""fleetfab's roles. Each module states one service's desired state as data."""

from roles.base import Base

ROLES = {role.name: role for role in (Base(),)}
