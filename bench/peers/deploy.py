"""pyinfra: the benchmark's workload, resource for resource the fleetfab base + bench roles.

Run by bench/run as `pyinfra INVENTORY deploy.py` with BENCH_WORKLOAD naming
the workload JSON (bench/workload.py writes it). Templates are the project's
own (templates/base/*.j2) and this folder's, rendered with fleetfab's Jinja
settings, so every tool writes byte-identical files.
"""

import io
import json
import os
from pathlib import Path

from pyinfra import host
from pyinfra.facts.files import File
from pyinfra.facts.server import Hostname
from pyinfra.operations import apt, files, server, systemd
from pyinfra.operations.util import any_changed

W = json.loads(Path(os.environ["BENCH_WORKLOAD"]).read_text())
HERE = Path(__file__).resolve().parent
PROJECT_TEMPLATES = HERE.parent.parent / "templates" / "base"
JINJA = {"trim_blocks": True, "lstrip_blocks": True}
SSHD_DROP_IN = "/etc/ssh/sshd_config.d/00-fleetfab.conf"
SUDOERS = "/etc/sudoers.d/fleetfab-admins"
APT_PROXY = "/etc/apt/apt.conf.d/01fleetfab-proxy"
TIMESYNCD_DROP_IN = "/etc/systemd/timesyncd.conf.d/fleetfab.conf"
CONTAINER_OVERRIDE = "/etc/systemd/system/systemd-timesyncd.service.d/fleetfab-container.conf"
SYSCTL_FILE = "/etc/sysctl.d/90-fleetfab.conf"
name = host.name

# -- base ------------------------------------------------------------------------
apt.packages(name="base: packages", packages=W["packages"])
files.put(name="base: /etc/hostname", src=io.StringIO(f"{name}\n"), dest="/etc/hostname")
if host.get_fact(Hostname) != name:
    server.shell(name="base: set hostname", commands=[f"hostname {name}"])
files.template(name="base: /etc/hosts", src=str(PROJECT_TEMPLATES / "hosts.j2"), dest="/etc/hosts",
               jinja_env_kwargs=JINJA, entries=W["hosts_entries"])
for admin in W["admins"]:
    user = admin["name"]
    server.user(name=f"base: user {user}", user=user, shell="/bin/bash", home=f"/home/{user}", create_home=True)
    files.directory(name=f"base: /home/{user}/.ssh", path=f"/home/{user}/.ssh", user=user, group=user, mode="700")
    files.put(name=f"base: {user} authorized_keys", src=io.StringIO("".join(f"{k}\n" for k in admin["keys"])),
              dest=f"/home/{user}/.ssh/authorized_keys", user=user, group=user, mode="600")
sudoers = "# Managed by fleetfab.\n" + "".join(f"{a['name']} ALL=(ALL:ALL) NOPASSWD: ALL\n" for a in W["admins"])
files.put(name="base: sudoers", src=io.StringIO(sudoers), dest=SUDOERS, mode="440")
sshd = files.template(name="base: sshd drop-in", src=str(PROJECT_TEMPLATES / "sshd.conf.j2"), dest=SSHD_DROP_IN,
                      jinja_env_kwargs=JINJA, permit_root_login="prohibit-password")
systemd.service(name="base: ssh running", service="ssh", running=True, enabled=True)
systemd.service(name="base: reload sshd", service="ssh", running=True, reloaded=True, _if=sshd.did_change)
for key, value in W["sysctls"].items():
    server.sysctl(name=f"base: sysctl {key}", key=key, value=value, persist=True, persist_file=SYSCTL_FILE)
drop_in = files.put(name="base: timesyncd servers", src=io.StringIO("# Managed by fleetfab.\n[Time]\nNTP=" + " ".join(W["time_servers"]) + "\n"),
                    dest=TIMESYNCD_DROP_IN)
override = files.put(name="base: timesyncd in a container", src=io.StringIO("[Unit]\nConditionVirtualization=\n"),
                     dest=CONTAINER_OVERRIDE)
systemd.daemon_reload(name="base: daemon-reload", _if=any_changed(drop_in, override))
systemd.service(name="base: timesyncd running", service="systemd-timesyncd", running=True, enabled=True)
systemd.service(name="base: restart timesyncd", service="systemd-timesyncd", running=True, restarted=True,
                _if=any_changed(drop_in, override))
files.file(name="base: no apt proxy", path=APT_PROXY, present=False)

# -- bench: the four steps -------------------------------------------------------
server.user(name="bench: user", user=W["bench_user"], shell="/bin/bash", home=f"/home/{W['bench_user']}", create_home=True)
files.template(name="bench: write a file", src=str(HERE / "templates" / "bench.conf.j2"), dest=W["written"],
               jinja_env_kwargs=JINJA, host_name=name)
files.put(name="bench: copy a file", src=W["copied_source"], dest=W["copied"])
if not host.get_fact(File, path=W["stamp"]):
    server.shell(name="bench: run a command", commands=[W["stamp_command"]])
