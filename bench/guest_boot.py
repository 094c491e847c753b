"""Boot the lab guest's base image under plain QEMU software emulation and time it.

What a VM host does with the image, without libvirt: a qcow2 overlay on the
base at a declared size, a NoCloud seed with a static address (network-config
v2, matched by MAC), direct kernel boot, the serial console to a file. Then
the seconds until SSH takes a throwaway key and until `cloud-init status
--wait` returns, and whether the host key the console printed is the one
SSH presented. User networking is restricted (the guest reaches nothing) and
its only way in is the guest's port 22 forwarded to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from fleetfab.lab import guestimage
from fleetfab.lab.paths import LabPaths

# The guest's own user network inside QEMU (no route on the host): a
# benchmarking-range /24 away from the lab's, the guest static in it.
NET = "198.18.99.0/24"
GATEWAY = "198.18.99.2"
DNS = "198.18.99.3"
ADDRESS = "198.18.99.10"
MAC = "52:54:00:f1:ee:10"
HOSTNAME = "guest-boot"
KEYS_BEGIN = "-----BEGIN SSH HOST KEY KEYS-----"
KEYS_END = "-----END SSH HOST KEY KEYS-----"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def throwaway_key(work: Path) -> Path:
    key = work / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "guest-boot", "-f", str(key)], check=True)
    return key


def seed_files(folder: Path, public_key: str, instance: str) -> None:
    """user-data (root takes the key), meta-data, network-config v2 with a static address.

    The default route is `to: 0.0.0.0/0`: cloud-init 22.4 (Debian 12) fails
    on netplan's `to: default`.
    """
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "user-data").write_text(
        "#cloud-config\n"
        f"hostname: {HOSTNAME}\n"
        "disable_root: false\n"
        f"ssh_authorized_keys:\n  - {public_key}\n")
    (folder / "meta-data").write_text(f"instance-id: {instance}\nlocal-hostname: {HOSTNAME}\n")
    (folder / "network-config").write_text(
        "version: 2\n"
        "ethernets:\n"
        "  lan:\n"
        f"    match:\n      macaddress: \"{MAC}\"\n"
        f"    addresses: [{ADDRESS}/24]\n"
        f"    routes:\n      - to: 0.0.0.0/0\n        via: {GATEWAY}\n"
        f"    nameservers:\n      addresses: [{DNS}]\n")


def qemu_command(image: guestimage.GuestImage, overlay: Path, seed: Path, console: Path,
                 agent: Path, port: int, memory: int) -> list[str]:
    net = f"user,id=n0,net={NET},host={GATEWAY},dns={DNS},restrict=on,hostfwd=tcp:127.0.0.1:{port}-{ADDRESS}:22"
    return [
        "qemu-system-x86_64", "-accel", "tcg", "-cpu", "max", "-m", str(memory), "-smp", "1",
        "-nodefaults", "-no-user-config", "-display", "none", "-serial", f"file:{console}",
        "-kernel", str(image.kernel), "-initrd", str(image.initrd), "-append", guestimage.KERNEL_CMDLINE,
        "-drive", f"file={overlay},if=virtio,format=qcow2",
        "-drive", f"file={seed},media=cdrom,readonly=on",
        "-netdev", net, "-device", f"virtio-net-pci,netdev=n0,mac={MAC}",
        "-device", "virtio-serial-pci",
        "-chardev", f"socket,id=qga0,path={agent},server=on,wait=off",
        "-device", "virtserialport,chardev=qga0,name=org.qemu.guest_agent.0",
    ]


def ssh_command(key: Path, port: int, known_hosts: Path, *remote: str) -> list[str]:
    return ["ssh", "-i", str(key), "-p", str(port), "-o", "BatchMode=yes", "-o", "ConnectTimeout=10",
            "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=accept-new",
            "-o", f"UserKnownHostsFile={known_hosts}", "-o", "LogLevel=ERROR", "root@127.0.0.1", *remote]


def wait_for_ssh(cmd: list[str], qemu: subprocess.Popen, deadline: float) -> bool:
    while time.monotonic() < deadline:
        if qemu.poll() is not None:
            raise SystemExit(f"guest_boot: qemu exited {qemu.returncode}")
        if subprocess.run(cmd, capture_output=True, timeout=60).returncode == 0:
            return True
        time.sleep(2)
    return False


def console_keys(text: str) -> list[tuple[str, str]]:
    """(type, base64) of every key in the console's host-keys block."""
    if KEYS_BEGIN not in text:
        return []
    block = text.split(KEYS_BEGIN, 1)[1].split(KEYS_END, 1)[0]
    return re.findall(r"^(ssh-ed25519|ecdsa-sha2-nistp\d+|ssh-rsa) (\S+)", block.replace("\r", ""), re.M)


def presented_keys(known_hosts: Path) -> list[tuple[str, str]]:
    """What SSH recorded on first contact: the key the guest presented."""
    return [tuple(line.split()[1:3]) for line in known_hosts.read_text().splitlines() if line.strip()]


def agent_interfaces(sock: Path, timeout: float = 20.0) -> list | str:
    """The guest agent's view of its NICs (MAC and addresses), as a hypervisor would read it."""
    try:
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(timeout)
            s.connect(str(sock))
            s.sendall(b'{"execute":"guest-sync","arguments":{"id":4242}}\n')
            _read_reply(s)
            s.sendall(b'{"execute":"guest-network-get-interfaces"}\n')
            return json.loads(_read_reply(s))["return"]
    except (OSError, ValueError, KeyError) as exc:
        return f"no answer: {exc}"


def _read_reply(s: socket.socket) -> bytes:
    data = b""
    while not data.endswith(b"\n"):
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


GUEST_FACTS = {
    "uptime_s": "cut -d' ' -f1 /proc/uptime",
    "cloud_init_status": "cloud-init status --long",
    "nics": "ip -o link show | awk -F': ' '$2 != \"lo\" {print $2}'",
    "ipv4": "ip -o -4 addr show scope global | awk '{print $2, $4}'",
    "default_route": "ip route show default",
    "root_fs_bytes": "df -B1 --output=size / | tail -1",
    "kernel": "uname -r",
    "network_files": "ls /etc/systemd/network /run/systemd/network 2>/dev/null",
    "system_state": "systemctl is-system-running || true",
    "failed_units": "systemctl --failed --no-legend --plain | awk '{print $1}'",
    "guest_agent": "systemctl is-active qemu-guest-agent || true",
    "blame": "systemd-analyze blame 2>/dev/null | head -8",
    "cloud_init_stages": "cloud-init analyze show 2>/dev/null | grep -E '^(Starting stage|Finished stage)' || true",
}


def guest_facts(ssh: list[str]) -> dict:
    facts = {}
    for name, command in GUEST_FACTS.items():
        result = subprocess.run([*ssh, command], capture_output=True, text=True, timeout=120)
        facts[name] = result.stdout.strip()
    return facts


def boot(args) -> dict:
    paths = LabPaths()
    image = guestimage.GuestImage(args.image_dir / guestimage.DISK_NAME, args.image_dir / guestimage.KERNEL_NAME,
                                  args.image_dir / guestimage.INITRD_NAME,
                                  (args.image_dir / "recipe.sha256").read_text().strip())
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=paths.work, prefix="guest-boot-") as tmp:
        work = Path(tmp)
        key = throwaway_key(work)
        seed_files(work / "seed", (key.with_suffix(".pub")).read_text().strip(), f"guest-boot-{int(time.time())}")
        subprocess.run(guestimage.seed_command(work / "seed", work / "seed.iso"), check=True)
        subprocess.run(guestimage.overlay_command(image.disk.resolve(), work / "disk.qcow2", args.disk_size),
                       check=True, capture_output=True)
        port, console, known_hosts = free_port(), out / "console.log", work / "known_hosts"
        known_hosts.touch()
        qemu_cmd = qemu_command(image, work / "disk.qcow2", work / "seed.iso", console, work / "qga.sock",
                                port, args.memory)
        started = time.monotonic()
        qemu = subprocess.Popen(qemu_cmd, stdin=subprocess.DEVNULL)
        try:
            return measure(args, image, qemu, started, key, port, known_hosts, console, work)
        finally:
            qemu.terminate()
            qemu.wait(timeout=30)


def measure(args, image, qemu, started, key, port, known_hosts, console, work) -> dict:
    ssh = ssh_command(key, port, known_hosts)
    if not wait_for_ssh([*ssh, "true"], qemu, started + args.timeout):
        raise SystemExit(f"guest_boot: no SSH within {args.timeout} s (console: {console})")
    ssh_s = time.monotonic() - started
    subprocess.run([*ssh, "cloud-init status --wait >/dev/null"], timeout=args.timeout)
    cloud_init_s = time.monotonic() - started
    facts = guest_facts(ssh)
    on_console = console_keys(console.read_text(errors="replace"))
    presented = presented_keys(known_hosts)
    return {
        "image": str(image.disk), "recipe": image.recipe_hash,
        "qemu": "tcg, -cpu max, 1 vCPU", "memory_mib": args.memory, "disk_size": args.disk_size,
        "ssh_key_login_s": round(ssh_s, 1), "cloud_init_done_s": round(cloud_init_s, 1),
        "host_keys_block_on_console": bool(on_console),
        "console_key_is_the_presented_key": bool(presented) and all(k in on_console for k in presented),
        "console_keys": [t for t, _ in on_console], "presented_keys": [t for t, _ in presented],
        "static_address": ADDRESS, "mac": MAC,
        "guest_agent_interfaces": agent_interfaces(work / "qga.sock"),
        **facts,
    }


def summary(r: dict) -> str:
    key = "console key = presented key" if r["console_key_is_the_presented_key"] else "console key NOT verified"
    state = r["cloud_init_status"].splitlines()[0] if r["cloud_init_status"] else "?"
    return (f"guest boot: ssh={r['ssh_key_login_s']}s cloud-init={r['cloud_init_done_s']}s ({state}) "
            f"{key}; nic={r['nics'] or '?'} {r['ipv4'] or 'no address'} (tcg, 1 vCPU, {r['memory_mib']} MiB)")


def parse(argv=None):
    paths = LabPaths()
    ap = argparse.ArgumentParser(prog="bench/guest_boot", description=__doc__.splitlines()[0])
    ap.add_argument("--image-dir", type=Path, default=guestimage.guest_folder(paths),
                    help="folder with bookworm.qcow2, vmlinuz, initrd.img (default .lab/guest; fab lab.guest-image)")
    ap.add_argument("--disk-size", default="4G", help="the overlay's declared size (root grows to it)")
    ap.add_argument("--memory", type=int, default=512, help="MiB")
    ap.add_argument("--timeout", type=float, default=900, help="seconds to wait for SSH and for cloud-init")
    ap.add_argument("--out", type=Path, default=paths.work / "bench" / "guest-boot",
                    help="where result.json and console.log go")
    return ap.parse_args(argv)


def main(argv=None) -> int:
    args = parse(argv)
    for tool in ("qemu-system-x86_64", "qemu-img", "genisoimage", "ssh"):
        if not shutil.which(tool):
            raise SystemExit(f"guest_boot: {tool} is not installed (run scripts/setup)")
    result = boot(args)
    (args.out / "result.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print(summary(result))
    return 0 if result["console_key_is_the_presented_key"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
