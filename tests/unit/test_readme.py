"""The README matches the tool: its task tables name every task and only tasks, its JSON example
has the report's keys, and its example production inventory validates and carries every role."""

from __future__ import annotations

import json
import re
from pathlib import Path

from fleetfab.inventory import load_inventory
from fleetfab.inventory.sections import HOST
from fleetfab.registry import all_roles
from fleetfab.report.jsonfile import report_document
from fleetfab.report.model import ChangeRecord, HostReport
from fleetfab.resources.base import Change
from fleetfab.tasks import ns

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
#: a table row documenting a task: | `fab [-H NAMES] name [--options]` | ...
TASK_ROW = re.compile(r"^\| `fab ([^`]*)`", re.MULTILINE)


def documented_tasks() -> set[str]:
    """Every task named in a README table row, whatever options and -H come before or after it."""
    found = set()
    for row in TASK_ROW.finditer(README):
        for call in re.findall(r"fab ([^`]*)", row.group(0)):
            words = [w for w in re.sub(r"\[[^\]]*\]", " ", call).split() if not w.startswith("-") and not w.isupper()]
            if words:
                found.add(words[0])
    return found


def tool_tasks() -> set[str]:
    """The collection's tasks, a collection's default task by the collection's name (`fab drift`)."""
    names = set(ns.task_names)
    for name in list(names):
        collection, _, task = name.partition(".")
        if task and ns.collections[collection].default == task:
            names.discard(name)
            names.add(collection)
    return names


def json_example() -> dict:
    section = README.split("### The JSON report", 1)[1]
    return json.loads(section.split("```json", 1)[1].split("```", 1)[0])


def real_report() -> dict:
    change = ChangeRecord("base", Change("file /etc/hosts", "update", "content", "--- a\n+++ b\n"))
    return report_document("drift", [HostReport("ns1", changes=[change], unchanged=14)], lambda text: text, 2)


def test_every_task_of_the_tool_is_in_the_readme_tables():
    assert tool_tasks() - documented_tasks() == set()


def test_every_task_in_the_readme_tables_exists():
    assert documented_tasks() - tool_tasks() == set()


def test_the_json_example_has_the_reports_keys():
    example, real = json_example(), real_report()
    assert list(example) == list(real)
    assert list(example["totals"]) == list(real["totals"])
    host = next(iter(example["hosts"].values()))
    assert list(host) == list(real["hosts"]["ns1"])
    assert list(host["changes"][0]) == list(real["hosts"]["ns1"]["changes"][0])


def test_the_example_production_inventory_validates_and_carries_every_role():
    inventory = load_inventory(ROOT / "inventory" / "example-production.yml")
    carried = {role for host in inventory.hosts.values() for role in host.roles}
    assert set(all_roles()) - carried == set()


def test_every_vm_key_the_readme_writes_is_one_the_inventory_knows():
    written = set(re.findall(r"`vm: \{(\w+):", README))
    assert written and written <= set(HOST.fields["vm"].kind.fields)
