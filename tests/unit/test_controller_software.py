"""fleetfab on the ops host: named by a digest of its sources, installed from wheels, swapped in whole."""

from __future__ import annotations

from fleetfab.roles.controller.software import FleetfabInstalled, HostPython, source_digest, source_files
from fleetfab.roles.controller.wheelhouse import runtime_pins, target_options

DIGEST = "ab" * 32
PYTHON = HostPython("3.11", "x86_64")


def layout(root, files: dict[str, str]) -> dict:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return {name: root / name for name in ("fleetfab", "roles", "templates")}


def test_the_digest_names_python_sources_and_every_template_but_no_caches(tmp_path):
    roots = layout(tmp_path, {"fleetfab/a.py": "", "fleetfab/__pycache__/a.cpython-311.pyc": "",
                              "roles/b/c.py": "", "roles/notes.txt": "", "templates/x/y.j2": ""})
    assert [name for name, _ in source_files(roots)] == ["fleetfab/a.py", "roles/b/c.py", "templates/x/y.j2"]


def test_the_same_sources_anywhere_give_the_same_names(tmp_path):
    files = {"fleetfab/a.py": "x = 1\n", "roles/b.py": "", "templates/t.j2": "{{ x }}"}
    one = source_files(layout(tmp_path / "checkout", files))
    two = source_files(layout(tmp_path / "site-packages", files))
    assert [n for n, _ in one] == [n for n, _ in two]


def test_the_checkouts_digest_is_a_sha256():
    assert len(source_digest()) == 64


def test_an_ops_host_running_this_fleetfab_is_left_alone():
    assert FleetfabInstalled("/opt/fleetfab/venv", DIGEST).compare(f"{DIGEST}\n3.11 x86_64\n") is None


def test_an_ops_host_without_fleetfab_gets_it_for_its_own_python():
    change = FleetfabInstalled("/opt/fleetfab/venv", DIGEST).compare("@absent\n3.11 x86_64\n")
    assert change.action == "install" and change.data == (PYTHON,)


def test_another_fleetfab_is_replaced_and_the_summary_names_both():
    change = FleetfabInstalled("/opt/fleetfab/venv", DIGEST).compare("cd" * 32 + "\n3.11 x86_64\n")
    assert change.summary == f"fleetfab {'cd' * 6} -> {DIGEST[:12]}"


def test_a_new_virtualenv_is_swapped_in_by_renaming_a_symlink(monkeypatch):
    import fleetfab.roles.controller.wheelhouse as wheelhouse

    monkeypatch.setattr(wheelhouse, "archive_digest", lambda digest, python: "ef" * 32)
    resource = FleetfabInstalled("/opt/fleetfab/venv", DIGEST)
    script = resource.fix(resource.compare("@absent\n3.11 x86_64\n"))
    assert "--no-index" in script
    assert "mv -Tf /opt/fleetfab/venv.new /opt/fleetfab/venv" in script
    assert script.index("sha256sum -c") < script.index("python3 -m venv")


def test_pins_are_the_versions_installed_here_and_leave_test_tools_out():
    import importlib.metadata as metadata

    pins = runtime_pins(PYTHON)
    assert f"paramiko=={metadata.version('paramiko')}" in pins
    assert not any(pin.startswith(("pytest", "dkimpy")) for pin in pins)


def test_wheels_are_chosen_for_the_ops_hosts_python_not_this_ones():
    options = target_options(HostPython("3.13", "aarch64"))
    assert options[options.index("--python-version") + 1] == "3.13"
    assert "cp313" in options and "manylinux_2_17_aarch64" in options
