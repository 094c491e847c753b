"""Lab machines this checkout's Vagrant does not know give way, where they hold its addresses."""

from fleetfab.lab.conflicts import ROOT_LABEL, clashes, known_ids

OURS = {"ours-id"}


def container(address, ident="other-id", lab=True):
    labels = {ROOT_LABEL: "/somewhere"} if lab else {}
    return {"Id": ident, "Name": "/vagrant_cp1_1", "Config": {"Labels": labels},
            "NetworkSettings": {"Networks": {"lab": {"IPAddress": address,
                                                      "IPAMConfig": {"IPv4Address": address}}}}}


def test_an_unknown_lab_machine_on_our_address_clashes():
    assert clashes([container("198.18.0.11")], OURS, {"198.18.0.11"})


def test_a_machine_left_by_an_earlier_clone_at_the_same_path_clashes():
    """Its label names our path, but our Vagrant state does not know it."""
    assert clashes([container("198.18.0.11", ident="left-over")], OURS, {"198.18.0.11"})


def test_our_own_machines_never_clash():
    assert clashes([container("198.18.0.11", ident="ours-id")], OURS, {"198.18.0.11"}) == []


def test_machines_on_other_addresses_are_left_alone():
    assert clashes([container("198.18.1.11")], OURS, {"198.18.0.11"}) == []


def test_containers_that_are_not_lab_machines_are_left_alone():
    assert clashes([container("198.18.0.11", lab=False)], OURS, {"198.18.0.11"}) == []


def test_a_stopped_machine_still_holds_its_configured_address():
    stopped = container("")
    stopped["NetworkSettings"]["Networks"]["lab"]["IPAMConfig"]["IPv4Address"] = "198.18.0.11"
    assert clashes([stopped], OURS, {"198.18.0.11"})


def test_our_machines_are_the_ids_in_our_vagrant_state(tmp_path):
    (tmp_path / "machines/cp1/docker").mkdir(parents=True)
    (tmp_path / "machines/cp1/docker/id").write_text("abc123\n")
    assert known_ids(tmp_path) == {"abc123"}
