"""fleetfab's built-in roles, installed as `fleetfab.roles`. Each states one service's desired
state as data. They are found through the `fleetfab.roles` entry points that pyproject.toml
declares (fleetfab/registry.py), as an installed package's roles are: nothing imports a list."""
