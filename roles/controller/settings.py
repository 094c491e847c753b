"""The ops host's settings and the places it keeps things."""

from fleetfab.schema import AbsolutePath, Bool, Field, Int, Record, Str

#: the account drift logs in as, on every host, and runs as on the ops host
ACCOUNT = "fleetfab"
HOME = "/var/lib/fleetfab"
KEY = f"{HOME}/.ssh/id_ed25519"
AUTHORIZED_KEYS = f"{HOME}/.ssh/authorized_keys"
SUDOERS = "/etc/sudoers.d/fleetfab-drift"

ROOT = "/opt/fleetfab"
#: a symlink to the virtualenv of the fleetfab now installed
VENV = f"{ROOT}/venv"
INVENTORY_DIR = f"{HOME}/inventory"
INVENTORY = f"{INVENTORY_DIR}/fleet.yml"
KNOWN_HOSTS = f"{INVENTORY_DIR}/known_hosts"
#: which operator inventory the copy was made from (fleetfab/scheduled/stale.py reads it)
SOURCE = f"{INVENTORY_DIR}/source.json"
#: the exports memory of the ops host's runs (fleetfab.memory), beside its inventory
MEMORY_DIR = f"{INVENTORY_DIR}/.fleetfab"
STATE_DIR = f"{HOME}/drift"

UNIT = "fleetfab-drift"
UNIT_DIR = "/etc/systemd/system"
#: after the timer starts (a boot, an install, a changed ops host): the first check
FIRST_CHECK = "15s"

#: the notification command's account: it cannot read the drift account's key (or anything of its home)
NOTIFY_ACCOUNT = "fleetfab-notify"
NOTIFY_HOME = "/var/lib/fleetfab-notify"
NOTIFY_UNIT = "fleetfab-drift-notify"
#: the drift account's, group the notification account's (2750): the change worth telling
OUTBOX = "/var/lib/fleetfab-outbox"

SPAN = Str(r"[1-9][0-9]*(s|min|h)", describe="a time span such as 90s, 15min or 2h")

SETTINGS = Record({
    "interval": Field(SPAN, doc="from the end of one scheduled drift check to the start of the next"),
    "time_limit": Field(SPAN, doc="a scheduled check still running after this is stopped"),
    "keep": Field(Int(1, 10000), doc="earlier reports (and change records) kept beside the latest"),
    "notify": Field(Str(describe="a shell command (one line)"), doc="shell command run as the account fleetfab-notify (which cannot read "
                               "the ops host's SSH key), after a check whose result differs from the run before; "
                               "the change is on its standard input as JSON"),
    "textfile_dir": Field(AbsolutePath(), doc="node_exporter's textfile collector folder"),
})

DEFAULTS = {
    "interval": "15min",
    "time_limit": "10min",
    "keep": 96,
    "textfile_dir": "/var/lib/prometheus/node-exporter",
}
