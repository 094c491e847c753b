"""Another checkout's lab machines give way only where they hold this lab's addresses."""

from fleetfab.lab.conflicts import ROOT_LABEL, clashes


def container(root, address, name="vagrant_cp1_1"):
    labels = {ROOT_LABEL: root} if root else {}
    return {"Id": name, "Name": "/" + name, "Config": {"Labels": labels},
            "NetworkSettings": {"Networks": {"lab": {"IPAddress": address,
                                                      "IPAMConfig": {"IPv4Address": address}}}}}


def test_another_checkouts_machine_on_our_address_clashes():
    assert clashes([container("/ci/clone", "198.18.0.11")], "/work/main", {"198.18.0.11"})


def test_our_own_machines_never_clash():
    assert clashes([container("/work/main", "198.18.0.11")], "/work/main", {"198.18.0.11"}) == []


def test_machines_on_other_addresses_are_left_alone():
    assert clashes([container("/ci/clone", "198.18.1.11")], "/work/main", {"198.18.0.11"}) == []


def test_containers_that_are_not_lab_machines_are_left_alone():
    assert clashes([container(None, "198.18.0.11")], "/work/main", {"198.18.0.11"}) == []


def test_a_stopped_machine_still_holds_its_configured_address():
    stopped = container("/ci/clone", "")
    stopped["NetworkSettings"]["Networks"]["lab"]["IPAMConfig"]["IPv4Address"] = "198.18.0.11"
    assert clashes([stopped], "/work/main", {"198.18.0.11"})
