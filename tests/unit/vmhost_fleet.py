"""A VM host with two guests, for the vmhost role's specifications."""

VM_FLEET = """
ssh:
  user: root
  identity: id_ed25519
groups:
  vmhosts:
    roles: [base, vmhost]
    vars:
      vmhost:
        emulation: qemu
        capacity: {cpus: 2, memory: 2048}
        networks:
          guests: {mode: nat, address: 198.18.100.1/24}
        images:
          bookworm: {file: images/bookworm.qcow2, kernel: images/vmlinuz, initrd: images/initrd.img}
hosts:
  hv1:
    address: 198.18.0.51
    groups: [vmhosts]
  g1:
    address: 198.18.100.11
    roles: [base]
    vm: {host: hv1, cpus: 1, memory: 512, disk: 4G}
  g2:
    address: 198.18.100.12
    roles: [base]
    vm: {host: hv1, cpus: 2, memory: 1024, disk: 8G, mac: "52:54:00:00:00:02"}
"""


def write_fleet(write_inventory, text: str = VM_FLEET):
    """The inventory, a login key and stand-in image files beside it."""

    path = write_inventory(text)
    key_file = path.parent / "id_ed25519"
    if not key_file.exists():
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        key = Ed25519PrivateKey.generate()
        key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                               serialization.NoEncryption()))
    images = path.parent / "images"
    images.mkdir(exist_ok=True)
    for name in ("bookworm.qcow2", "vmlinuz", "initrd.img"):
        (images / name).write_bytes(b"stand-in " + name.encode())
    return path
