"""The package list, which pyproject.toml alone cannot state: the repository's
`roles/` folder is installed as `fleetfab.roles`, so installing fleetfab adds
only its own namespace to site-packages while the checkout keeps an operator
project's layout (fabfile/, inventory/, roles/, templates/)."""

from setuptools import find_packages, setup

ENGINE = find_packages(include=["fleetfab", "fleetfab.*"])
ROLES = ["fleetfab." + name for name in find_packages(include=["roles", "roles.*"])]

setup(packages=ENGINE + ROLES, package_dir={"fleetfab.roles": "roles"})
