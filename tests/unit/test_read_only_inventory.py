"""An inventory with run.read_only (an ops host's copy) checks hosts and never changes them."""

import pytest

from fleetfab.runner import ReadOnlyInventory, RunOptions, run_fleet
from tests.unit.test_cli import fab

READ_ONLY = """
run:
  read_only: true
hosts:
  web1: {address: 198.18.0.5}
"""


def test_bootstrap_from_a_read_only_inventory_is_refused_naming_the_setting(write_inventory):
    path = write_inventory(READ_ONLY)
    result = fab("bootstrap", inventory=path)
    assert result.returncode == 1
    assert f"{path}:2: run.read_only: this inventory only checks hosts" in result.stderr
    assert "nothing was contacted" in result.stderr


def test_every_change_through_the_engine_is_refused_not_only_bootstrap(load):
    inventory = load(READ_ONLY)
    with pytest.raises(ReadOnlyInventory):
        run_fleet(inventory, inventory.select(None), RunOptions(apply=True, purpose="rotate"), view=None, roles={})


def test_an_inventory_without_the_setting_may_apply(load):
    assert load(READ_ONLY.replace("true", "false")).read_only == 0
