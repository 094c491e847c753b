"""The docker lab's host keys come from the machines' own files, once per new machine."""

from types import SimpleNamespace

from fleetfab.lab.hostkeys import record_host_keys

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBHnW1QEnvwmU7kc8gIkyEp8mg7A6gyVoa3A4tcHb0Cs root@lab"


def machine(vagrant_dir, name, ident):
    folder = vagrant_dir / ".vagrant" / "machines" / name / "docker"
    folder.mkdir(parents=True)
    (folder / "id").write_text(ident + "\n")


def host(name, address, port=22):
    return SimpleNamespace(name=name, address=address, port=port)


def test_a_new_machines_key_is_recorded_under_its_address(tmp_path):
    machine(tmp_path, "ns1", "c0ffee")
    known = tmp_path / "known_hosts"
    added = record_host_keys([host("ns1", "198.18.0.31")], tmp_path, known, read=lambda ident: KEY)
    assert added == ["ns1"]
    assert known.read_text() == "198.18.0.31 " + " ".join(KEY.split()[:2]) + "\n"


def test_a_machine_already_in_known_hosts_is_not_read_again(tmp_path):
    machine(tmp_path, "ns1", "c0ffee")
    known = tmp_path / "known_hosts"
    known.write_text("198.18.0.31 ssh-ed25519 AAAAold\n")
    asked = []
    record_host_keys([host("ns1", "198.18.0.31")], tmp_path, known, read=lambda ident: asked.append(ident) or KEY)
    assert asked == []


def test_a_machine_on_another_port_is_recorded_the_way_ssh_looks_it_up(tmp_path):
    machine(tmp_path, "mx", "beef")
    known = tmp_path / "known_hosts"
    record_host_keys([host("mx", "198.18.0.41", 2222)], tmp_path, known, read=lambda ident: KEY)
    assert known.read_text().startswith("[198.18.0.41]:2222 ssh-ed25519 ")


def test_a_machine_vagrant_has_not_created_is_skipped(tmp_path):
    known = tmp_path / "known_hosts"
    assert record_host_keys([host("gone", "198.18.0.99")], tmp_path, known, read=lambda ident: KEY) == []
    assert not known.exists()
