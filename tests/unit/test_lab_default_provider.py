"""The lab's default provider: a hypervisor only where one really runs, else docker."""

from fleetfab.lab.vagrant import default_provider, libvirt_usable

VMX = "processor\t: 0\nflags\t\t: fpu vme de pse vmx sse2\n"
NO_VMX = "processor\t: 0\nflags\t\t: fpu vme de pse sse2 hypervisor\n"


def test_libvirt_clients_alone_are_not_a_hypervisor(tmp_path, monkeypatch):
    monkeypatch.delenv("VAGRANT_DEFAULT_PROVIDER", raising=False)
    assert not libvirt_usable(which=lambda tool: "/usr/bin/virsh", socket=tmp_path / "absent-sock", cpuinfo=VMX)
    assert default_provider(which=lambda tool: None, libvirt=lambda: False) == "docker"


def test_a_running_libvirt_on_a_cpu_without_vt_x_is_not_used(tmp_path):
    socket = tmp_path / "libvirt-sock"
    socket.touch()
    assert not libvirt_usable(which=lambda tool: "/usr/bin/virsh", socket=socket, cpuinfo=NO_VMX)


def test_a_running_libvirt_with_hardware_virtualization_is_the_default(tmp_path, monkeypatch):
    monkeypatch.delenv("VAGRANT_DEFAULT_PROVIDER", raising=False)
    socket = tmp_path / "libvirt-sock"
    socket.touch()
    assert libvirt_usable(which=lambda tool: "/usr/bin/virsh", socket=socket, cpuinfo=VMX)
    assert default_provider(which=lambda tool: None, libvirt=lambda: True) == "libvirt"


def test_the_environment_names_the_provider_first(monkeypatch):
    monkeypatch.setenv("VAGRANT_DEFAULT_PROVIDER", "virtualbox")
    assert default_provider(libvirt=lambda: True) == "virtualbox"
