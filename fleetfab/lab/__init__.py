"""The Vagrant lab: machines built from the inventory, on this machine.

Pure parts (machine specs, ssh_config, apt sources, box recipe hash) are kept
apart from the parts that run vagrant, docker and debootstrap, so the first
are unit-tested and the second are proved by bringing the lab up.
"""
