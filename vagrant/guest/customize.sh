#!/bin/sh
# Run inside the debootstrapped tree (chroot) before it becomes the disk.
set -eu

# No identity is baked in: cloud-init makes the host keys at first boot,
# systemd the machine-id (empty file), the seed the host name.
rm -f /etc/ssh/ssh_host_*
: > /etc/machine-id
rm -f /var/lib/dbus/machine-id /etc/hostname
# debootstrap copied the build host's resolver; systemd-resolved owns it here.
ln -sf ../run/systemd/resolve/stub-resolv.conf /etc/resolv.conf

# The mirror debootstrap used is replaced by the lab host's apt sources.
rm -f /etc/apt/sources.list

# cloud-init renders the network-config for systemd-networkd.
systemctl enable systemd-networkd.service systemd-resolved.service
# e2scrub only reaps LVM snapshots, which a guest's whole-disk ext4 never
# has; under software emulation its start costs seconds of the one vCPU.
systemctl mask e2scrub_reap.service e2scrub_all.timer

apt-get clean
rm -rf /var/lib/apt/lists/* /var/log/*.log
