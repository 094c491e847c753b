"""pyinfra: the scale benchmark's scratch role, resource for resource (bench/scale_role.py).

Run by bench/scale as `pyinfra INVENTORY scale_deploy.py` with SCALE_SCRATCH
naming the folder that holds every host's scratch folder (one a host, by
host name). pyinfra has no validator for a file it puts, so app.conf is
written without one; everything else is the same state.
"""

import io
import os

from pyinfra import host
from pyinfra.facts.files import File
from pyinfra.operations import files, server

ROOT = f"{os.environ['SCALE_SCRATCH']}/{host.name}"
PAYLOAD = "".join(f"option_{i:03d} = value {i}\n" for i in range(100))

files.directory(name="scratch: root", path=ROOT, mode="755")
files.directory(name="scratch: etc", path=f"{ROOT}/etc", mode="750")
files.directory(name="scratch: data", path=f"{ROOT}/data", mode="755")
app = files.put(name="scratch: app.conf", src=io.StringIO("greeting = hello\n"), dest=f"{ROOT}/etc/app.conf")
files.put(name="scratch: host.conf", src=io.StringIO(f"# Written by the fleetfab scale benchmark.\nhost = {host.name}\n"),
          dest=f"{ROOT}/etc/host.conf")
files.put(name="scratch: token", src=io.StringIO("scale-bench-token\n"), dest=f"{ROOT}/etc/token", mode="600")
files.put(name="scratch: payload", src=io.StringIO(PAYLOAD), dest=f"{ROOT}/data/payload.txt")
files.line(name="scratch: list.conf", path=f"{ROOT}/etc/list.conf", line="^enabled.*$", replace="enabled = yes")
files.line(name="scratch: limits.conf", path=f"{ROOT}/etc/limits.conf", line="^max_clients.*$", replace="max_clients = 100")
if not host.get_fact(File, path=f"{ROOT}/marker"):
    server.shell(name="scratch: marker", commands=[f"touch {ROOT}/marker"])
if not host.get_fact(File, path=f"{ROOT}/data/stamp"):
    server.shell(name="scratch: stamp", commands=[f"date -u +%FT%TZ > {ROOT}/data/stamp"])
files.file(name="scratch: no obsolete.conf", path=f"{ROOT}/etc/obsolete.conf", present=False)
server.shell(name="scratch: reload app", commands=[f"echo reloaded >> {ROOT}/handler.log"], _if=app.did_change)
