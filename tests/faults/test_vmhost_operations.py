"""Guests changed on purpose: dropped from the inventory, resized, destroyed and brought back.

The lab's guest boots under software emulation (a minute or more), so the
tests share the boots: a resize is applied by `vmhost.reboot`, and a guest
destroyed with its disk kept comes back, at the inventory's size, from the
next bootstrap.
"""

from __future__ import annotations

import subprocess

import pytest

GUEST = "guest1"


def vm_host(lab) -> str:
    return lab.inventory.hosts[GUEST].hypervisor


def virsh(lab, command: str) -> str:
    return lab.sh(vm_host(lab), f"virsh -q {command}").strip()


def changes(run, host: str) -> list[dict]:
    return run.document()["hosts"][host]["changes"]


@pytest.fixture(scope="module", autouse=True)
def guest_declared(lab):
    if GUEST not in lab.inventory.hosts or not lab.inventory.hosts[GUEST].vm:
        pytest.skip(f"the lab inventory declares no guest {GUEST}")


def test_a_guest_dropped_from_the_inventory_is_reported_by_drift(lab):
    dropped = lab.inventory_copy("dropped", change=lambda d: d["hosts"].pop(GUEST))
    code, run = lab.fab("-H", vm_host(lab), "drift", inventory=dropped)
    assert code == 2, run.output
    reported = [c for c in changes(run, vm_host(lab)) if c["resource"] == "guests not in the inventory"]
    assert reported and reported[0]["summary"].startswith(f"{GUEST}: not in the inventory; left alone")


def test_a_bootstrap_without_the_guest_leaves_it_running(lab):
    dropped = lab.inventory_copy("dropped-bootstrap", change=lambda d: d["hosts"].pop(GUEST))
    try:
        code, run = lab.fab("-H", vm_host(lab), "bootstrap", inventory=dropped)
        assert code == 0, run.output
        assert virsh(lab, f"domstate {GUEST}") == "running"
        assert any(f"{GUEST}: not in the inventory" in note for note in run.document()["hosts"][vm_host(lab)]["notes"])
    finally:
        code, run = lab.fab("-H", vm_host(lab), "bootstrap")
        assert code == 0, run.output


def bigger(document):
    document["hosts"][GUEST]["vm"]["memory"] = 640


def test_a_memory_change_shows_in_drift(lab):
    code, run = lab.fab("-H", vm_host(lab), "drift", inventory=lab.inventory_copy("bigger-drift", change=bigger))
    assert code == 2, run.output
    (change,) = [c for c in changes(run, vm_host(lab)) if c["resource"] == f"guest {GUEST}"]
    assert change["summary"] == "memory 512 -> 640 MiB (at the next restart)"


def test_a_memory_change_reaches_the_definition_and_waits_for_a_restart(lab):
    code, run = lab.fab("-H", vm_host(lab), "bootstrap", inventory=lab.inventory_copy("bigger", change=bigger))
    assert code == 0, run.output
    assert f"<memory unit='KiB'>{640 * 1024}</memory>" in lab.sh(vm_host(lab), f"virsh dumpxml --inactive {GUEST}")
    notes = run.document()["hosts"][vm_host(lab)]["notes"]
    assert any("pending a restart" in note for note in notes), notes


def test_vmhost_reboot_brings_the_guest_back_at_its_new_size(lab):
    code, run = lab.fab("-H", GUEST, "vmhost.reboot", inventory=lab.tmp / "bigger" / lab.inventory_file.name, report=False)
    assert code == 0, run.output
    assert f"Max memory:     {640 * 1024} KiB" in virsh(lab, f"dominfo {GUEST}")


def test_destroy_undefines_the_guest_and_keeps_its_disk(lab):
    code, run = lab.fab("-H", GUEST, "vmhost.destroy", report=False)
    assert code == 0, run.output
    assert subprocess.run(["docker", "exec", lab.container(vm_host(lab)), "virsh", "-q", "dominfo", GUEST],
                          capture_output=True).returncode != 0
    assert lab.sh(vm_host(lab), f"test -f /var/lib/libvirt/images/fleetfab/guests/{GUEST}.qcow2 && echo kept").strip() == "kept"


def test_drift_reports_a_declared_guest_that_is_missing(lab):
    code, run = lab.fab("-H", vm_host(lab), "drift")
    assert code == 2, run.output
    assert [c["action"] for c in changes(run, vm_host(lab)) if c["resource"] == f"guest {GUEST}"] == ["create"]


def test_the_next_bootstrap_brings_the_guest_back_from_its_disk_at_the_declared_size(lab):
    code, run = lab.fab("-H", f"{vm_host(lab)},{GUEST}", "bootstrap")
    assert code == 0, run.output
    assert virsh(lab, f"domstate {GUEST}") == "running"
    assert f"Max memory:     {512 * 1024} KiB" in virsh(lab, f"dominfo {GUEST}")
    code, run = lab.fab("-H", f"{vm_host(lab)},{GUEST}", "bootstrap")
    assert code == 0 and run.document()["totals"]["changed"] == 0, run.output
