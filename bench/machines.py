"""The bench's lab machines: containers of the lab box on the bench's own network.

They are the lab's machines (the box `fabric lab.up` builds, systemd as PID 1,
sshd, the same docker create arguments) with one difference: the bench image
has systemd-timesyncd preinstalled from the Debian package matching the box
(and this checkout's lab key: the box is shared by every checkout here),
so that no run of any tool downloads packages and every tool's first apply
measures the tool, not the mirror.

Everything here is labelled `org.fleetfab.bench.root=<repo>` and only
containers with that label are ever removed: the main lab's machines
(198.18.0.0/24, Vagrant state in vagrant/.vagrant) are never touched.
"""

from __future__ import annotations

import glob
import hashlib
import json
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.fleet import NETWORK, Machine, check_network, gateway
from fleetfab.lab.machines import DOCKER_CREATE_ARGS

LAB_IMAGE = "fleetfab/lab-debian:bookworm"
BENCH_REPOSITORY = "fleetfab/lab-debian-bench"
LABEL = "org.fleetfab.bench.root"
BASE_LABEL = "org.fleetfab.bench.base"
NETWORK_NAME = "fleetfab-bench"
MEMORY = "512m"
#: bump when the bench image's recipe below changes
RECIPE = "3"


class MachineError(RuntimeError):
    pass


def docker(*args: str, check: bool = True, capture: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(["docker", *args], text=True, capture_output=capture)
    if check and result.returncode != 0:
        raise MachineError(f"docker {' '.join(args[:3])}...: {result.stderr.strip()}")
    return result


def container_name(machine: Machine) -> str:
    return f"fleetfab-bench-{machine.name}"


# -- the image -------------------------------------------------------------------


def image_id(name: str) -> str | None:
    result = docker("image", "inspect", "-f", "{{.Id}}", name, check=False)
    return result.stdout.strip() if result.returncode == 0 else None


def bench_image(root: Path) -> str:
    """This checkout's bench image: other checkouts on the machine have their own."""
    return f"{BENCH_REPOSITORY}:{hashlib.sha256(str(root).encode()).hexdigest()[:12]}"


def ensure_image(work: Path, root: Path, key: Path, log=print) -> str:
    """The bench image: the lab box plus systemd-timesyncd and this checkout's lab key.

    The lab box is shared by every checkout on this docker engine and carries
    the key of whichever checkout built it last, so the bench adds its own.
    Rebuilt when the box, the key or this recipe changes.
    """
    image = bench_image(root)
    base = image_id(LAB_IMAGE)
    if base is None:
        raise MachineError(f"no lab box {LAB_IMAGE}: build it first with `fab lab.box` (or `./run lab`)")
    public_key = Path(f"{key}.pub").read_text()
    stamp = f"{base}+{hashlib.sha256(public_key.encode()).hexdigest()[:12]}+{RECIPE}"
    current = docker("image", "inspect", "-f", f'{{{{index .Config.Labels "{BASE_LABEL}"}}}}', image, check=False)
    if current.returncode == 0 and current.stdout.strip() == stamp:
        return image
    context = work / "image"
    debs = context / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    for old in debs.glob("*.deb"):
        old.unlink()
    version = docker("run", "--rm", "--entrypoint", "dpkg-query", LAB_IMAGE, "-W", "-f", "${Version}", "libsystemd-shared").stdout.strip()
    fetch_timesyncd(version, debs)
    (context / "authorized_keys").write_text(public_key)
    (context / "Dockerfile").write_text(
        f"FROM {LAB_IMAGE}\n"
        "COPY debs/ /tmp/debs/\n"
        "RUN dpkg -i /tmp/debs/*.deb && rm -rf /tmp/debs\n"
        # An empty drop-in folder, present when systemd loads the unit at boot.
        # Without it, fleetfab's Service start after the base role writes its
        # first drop-in there finds NeedDaemonReload=no (systemd 252 does not
        # watch a drop-in folder created later), skips daemon-reload and
        # fails: reported to the engine, worked around here only.
        "RUN mkdir -p /etc/systemd/system/systemd-timesyncd.service.d\n"
        "COPY authorized_keys /root/.ssh/authorized_keys\n"
        "RUN chmod 700 /root/.ssh && chmod 600 /root/.ssh/authorized_keys\n"
        f"LABEL {BASE_LABEL}={stamp}\n"
    )
    log(f"machines: building {image} (lab box + systemd-timesyncd {version} + this checkout's lab key)")
    docker("build", "-q", "-t", image, str(context))
    return image


def fetch_timesyncd(version: str, into: Path) -> None:
    """The package from this machine's apt cache, else through apt itself."""
    cached = glob.glob(f"/var/cache/apt/archives/systemd-timesyncd_{version.replace(':', '%3a')}_amd64.deb")
    if cached:
        (into / Path(cached[0]).name).write_bytes(Path(cached[0]).read_bytes())
        return
    result = subprocess.run(["apt-get", "download", f"systemd-timesyncd={version}"], cwd=into, text=True, capture_output=True)
    if result.returncode != 0:
        raise MachineError(f"cannot get systemd-timesyncd {version}: {result.stderr.strip()}")


# -- network and machines ------------------------------------------------------


def ensure_network(root: Path) -> None:
    check_network(NETWORK)
    found = docker("network", "inspect", "-f", "{{range .IPAM.Config}}{{.Subnet}}{{end}}", NETWORK_NAME, check=False)
    if found.returncode == 0:
        if found.stdout.strip() != str(NETWORK):
            raise MachineError(f"docker network {NETWORK_NAME} exists with {found.stdout.strip()}, expected {NETWORK}")
        return
    docker("network", "create", "--subnet", str(NETWORK), "--gateway", gateway(NETWORK),
           "--label", f"{LABEL}={root}", NETWORK_NAME)


def own_containers(root: Path) -> list[str]:
    return docker("ps", "-aq", "--filter", f"label={LABEL}={root}").stdout.split()


def remove_own(root: Path, timeout: float = 120.0) -> None:
    """Remove the bench's containers (by label) and wait until they are gone."""
    deadline = time.monotonic() + timeout
    while ids := own_containers(root):
        # "no such container" or "removal already in progress" are fine: wait for it
        docker("rm", "-f", *ids, check=False)
        if time.monotonic() > deadline:
            raise MachineError(f"bench containers still present after {timeout:.0f} s: {' '.join(ids)}")
        time.sleep(0.5)


def destroy(root: Path) -> None:
    """Remove the bench's machines (by label) and its network; nothing else."""
    remove_own(root)
    net = docker("network", "inspect", "-f", f'{{{{index .Labels "{LABEL}"}}}}', NETWORK_NAME, check=False)
    if net.returncode == 0 and net.stdout.strip() == str(root):
        docker("network", "rm", NETWORK_NAME, check=False)


def create(fleet: list[Machine], image: str, root: Path) -> None:
    """Fresh machines: remove the bench's old ones, start new ones (new host keys)."""
    remove_own(root)
    for machine in fleet:
        other = docker("inspect", "-f", f'{{{{index .Config.Labels "{LABEL}"}}}}', container_name(machine), check=False)
        if other.returncode == 0:
            raise MachineError(f"a container named {container_name(machine)} exists and is not the bench's: remove it by hand")
    ensure_network(root)

    def start(machine: Machine) -> None:
        docker("run", "-d", "--name", container_name(machine), "--hostname", machine.name,
               "--network", NETWORK_NAME, "--ip", machine.address, "--label", f"{LABEL}={root}",
               *DOCKER_CREATE_ARGS, "--memory", MEMORY, image)

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(start, fleet))


def wait_for_ssh(fleet: list[Machine], timeout: float = 120.0) -> None:
    """Until every machine's sshd sends its banner."""
    deadline = time.monotonic() + timeout
    waiting = list(fleet)
    while waiting and time.monotonic() < deadline:
        waiting = [m for m in waiting if not _banner(m.address)]
        if waiting:
            time.sleep(0.3)
    if waiting:
        raise MachineError(f"sshd did not answer within {timeout:.0f} s on {', '.join(m.name for m in waiting)}")


def wait_for_boot(fleet: list[Machine], timeout: float = 180.0) -> None:
    """Until systemd on every machine has finished booting.

    sshd answers long before the rest of a machine's units have started;
    measuring then would time 20 boots sharing the tools' cores, not the
    tools. `degraded` is a finished boot too (a unit failed, which the
    tools' own checks then report).
    """

    def booted(machine: Machine) -> str:
        try:
            result = subprocess.run(["docker", "exec", container_name(machine), "systemctl", "is-system-running", "--wait"],
                                    text=True, capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return "still starting"
        return result.stdout.strip() or result.stderr.strip()

    with ThreadPoolExecutor(max_workers=len(fleet) or 1) as pool:
        states = dict(zip((m.name for m in fleet), pool.map(booted, fleet)))
    unfinished = {name: state for name, state in states.items() if state not in ("running", "degraded")}
    if unfinished:
        raise MachineError("machines did not finish booting: " + ", ".join(f"{n} ({s})" for n, s in unfinished.items()))


def _banner(address: str) -> bool:
    try:
        with socket.create_connection((address, 22), timeout=2) as s:
            s.settimeout(2)
            return s.recv(64).startswith(b"SSH-")
    except OSError:
        return False


def host_keys(fleet: list[Machine], timeout: float = 60.0) -> list[list[str]]:
    """Each machine's host keys ('type base64'), read by ssh-keyscan on the bench network."""
    deadline = time.monotonic() + timeout
    keys: dict[str, list[str]] = {}
    while time.monotonic() < deadline:
        missing = [m.address for m in fleet if m.address not in keys]
        if not missing:
            break
        out = subprocess.run(["ssh-keyscan", "-T", "5", "-t", "ed25519,ecdsa,rsa", *missing],
                             text=True, capture_output=True).stdout
        for line in out.splitlines():
            if line.startswith("#") or not line.strip():
                continue
            host, key_type, key = line.split()[:3]
            keys.setdefault(host, []).append(f"{key_type} {key}")
        time.sleep(0.2)
    missing = [m.name for m in fleet if m.address not in keys]
    if missing:
        raise MachineError(f"no host keys from {', '.join(missing)}")
    return [sorted(keys[m.address]) for m in fleet]


def describe_host() -> dict:
    """The machine the figures were taken on."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kib = 0
    try:
        mem_kib = int(Path("/proc/meminfo").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        pass
    kernel = subprocess.run(["uname", "-r"], text=True, capture_output=True).stdout.strip()
    release = ""
    try:
        release = dict(l.split("=", 1) for l in Path("/etc/os-release").read_text().splitlines() if "=" in l).get("PRETTY_NAME", "").strip('"')
    except OSError:
        pass
    docker_version = docker("version", "-f", "{{.Server.Version}}", check=False).stdout.strip()
    import os

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "os": release,
        "kernel": kernel,
        "docker": docker_version,
    }


def describe_json() -> str:
    return json.dumps(describe_host())


# -- this machine's limits -------------------------------------------------------

INOTIFY_INSTANCES = Path("/proc/sys/fs/inotify/max_user_instances")
#: inotify instances one booting systemd container takes, with room to spare
INOTIFY_PER_MACHINE = 64


def raise_inotify_limit(count: int, log=print) -> None:
    """systemd in every container takes inotify instances from root's shared budget.

    The kernel's default (128) runs out after about 15 lab machines: the rest
    hang in `initializing` without sshd. Raise it (never lower it).
    """
    wanted = 1024 + INOTIFY_PER_MACHINE * count
    current = int(INOTIFY_INSTANCES.read_text())
    if current < wanted:
        INOTIFY_INSTANCES.write_text(str(wanted))
        log(f"machines: fs.inotify.max_user_instances {current} -> {wanted} (systemd in {count} more containers)")
