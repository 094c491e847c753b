"""Scheduled drift: what one unattended run of `fab drift` leaves behind.

A timer on the ops host runs `python -m fleetfab.scheduled` every few
minutes. Each run checks the fleet (read-only), tells hosts bootstrapped
from an inventory newer than the ops host's copy from drifting ones
(`stale`), keeps the report and a bounded history, tells node_exporter
through a textfile, compares the result with the run before, and leaves the
change in an outbox only when something differs; the notification unit
(`send`, as an account that cannot read the SSH key) runs the operator's
command with it, so that someone looks only when there is news.

The state directory (for example /var/lib/fleetfab/drift) holds:

    latest.json            the newest drift document (as `fab drift --json` writes it)
    history/<stamp>.json   earlier drift documents, the newest N kept
    changes.json           what differs between the newest run and the one before
    changes/<stamp>.json   earlier non-empty change documents, the newest N kept
    hosts.json             per host, when it was last checked successfully
    .lock                  held while a run works on the directory

Beside it, the outbox (`notice.json`, the drift account's) and the
notification account's `notify.json` (how its last attempt went):
fleetfab/scheduled/outbox.py.

Everything here is pure file handling except `check` (the drift child), the
journal reads of `stale` and `notify` (the operator's command); the first two
are injected into `run`, the last into `send`, so tests need neither a host
nor SSH.
"""
