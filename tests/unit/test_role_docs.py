"""`fab roles` documents settings from the very schemas that validate them."""

from fleetfab.cli.roledoc import markdown, rows
from fleetfab.registry import all_roles
from fleetfab.roles.base import Base


def test_every_setting_of_a_role_is_documented_with_its_default():
    documented = {path: default for path, _, default, _ in rows(Base.settings, Base.defaults)}
    assert documented["ssh.permit_root_login"] == "'prohibit-password'"
    assert documented["admins[].name"] == "required"
    assert set(documented) >= {f for f in Base.settings.fields}


def test_every_registered_role_renders_a_table():
    for role in all_roles().values():
        assert markdown(role).startswith(f"### Role `{role.name}`")
