#!/bin/sh
# Turn the debootstrapped tree into an image every lab machine can share.
set -eu

# No identity is baked in: each machine makes its own host keys on first
# boot (ssh-host-keys.service) and its own machine-id (systemd, empty file).
rm -f /etc/ssh/ssh_host_*
: > /etc/machine-id
rm -f /var/lib/dbus/machine-id

# The mirror debootstrap used is replaced by the host's own apt sources.
rm -f /etc/apt/sources.list

systemctl enable ssh-host-keys.service proc-sys-net.service

# Nothing to do in a container: no consoles, no kernel to tune from here.
systemctl mask getty@tty1.service console-getty.service \
  systemd-remount-fs.service sys-kernel-config.mount sys-kernel-debug.mount \
  sys-kernel-tracing.mount dev-hugepages.mount systemd-firstboot.service

apt-get clean
rm -rf /var/lib/apt/lists/* /var/log/*.log
