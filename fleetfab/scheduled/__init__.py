"""Scheduled drift: what one unattended run of `fab drift` leaves behind.

A timer on the ops host runs `python -m fleetfab.scheduled` every few
minutes. Each run checks the fleet (read-only), keeps the report and a
bounded history, tells node_exporter through a textfile, compares the result
with the run before, and runs the operator's notification command only when
something differs, so that someone looks only when there is news.

The state directory (for example /var/lib/fleetfab/drift) holds:

    latest.json            the newest drift document (as `fab drift --json` writes it)
    history/<stamp>.json   earlier drift documents, the newest N kept
    changes.json           what differs between the newest run and the one before
    changes/<stamp>.json   earlier non-empty change documents, the newest N kept
    hosts.json             per host, when it was last checked successfully
    notify.json            how the last notification went
    .lock                  held while a run works on the directory

Everything here is pure file handling except `check` (the drift child) and
`notify` (the operator's command); both are injected into `run`, so tests
need neither a host nor SSH.
"""
