"""The run as Prometheus metrics, in the text format node_exporter's textfile collector reads.

Written by prometheus_client (a registry of gauges, `write_to_textfile`), so
the format, its escapes and the atomic replacement are the library's. Every
metric is a gauge: each run replaces the whole file, so a value is the state
at the last run, never a count across runs. Per-host series are labelled
`host`; a host that left the selection disappears from the file, and with it
from Prometheus, instead of lingering at its last value.

    fleetfab_drift_host_checked{host}                        1 when the host was read this run
    fleetfab_drift_host_failed{host}                         1 when it could not be checked completely
    fleetfab_drift_host_resources_drifting{host}             resources that differ from the inventory
    fleetfab_drift_host_resources_blocked{host}              resources waiting for a value no host gave
    fleetfab_drift_host_stale_copy{host}                     1 when the host was bootstrapped from another
                                                             inventory after the ops host's copy was made
    fleetfab_drift_host_check_duration_seconds{host}         time spent on the host
    fleetfab_drift_host_last_success_timestamp_seconds{host} last complete check (absent: never)
    fleetfab_drift_hosts{status}                             hosts per status (ok, changed, failed, stale)
    fleetfab_drift_copy_stale                                1 when the ops host's copy is older than
                                                             the fleet's last bootstrap
    fleetfab_drift_run_duration_seconds                      how long the drift check took
    fleetfab_drift_run_finished_timestamp_seconds            when the run's report was finished
    fleetfab_drift_run_exit_code                             0 clean, 2 drift, 1 not all checked, 3 stale copy
    fleetfab_drift_run_report_written                        0 when drift wrote no report
    fleetfab_drift_notification_ok                           how the last notification went
    fleetfab_drift_notification_timestamp_seconds            when it was attempted

The notification runs in a unit of its own after the check (as another
account), so the notification gauges a run writes are those of the last
notification finished before it started.

An alert on `time() - fleetfab_drift_run_finished_timestamp_seconds`
catches a timer that stopped running; one on
`time() - fleetfab_drift_host_last_success_timestamp_seconds` a host that
has not been checked for too long.
"""

from __future__ import annotations

import os
from pathlib import Path

from prometheus_client import CollectorRegistry, Gauge, generate_latest, write_to_textfile

from fleetfab.scheduled.documents import drifting, failed, finished_seconds, hosts, stale, was_read

FILE_NAME = "fleetfab_drift.prom"
PREFIX = "fleetfab_drift_"
STATUSES = ("ok", "changed", "failed", "stale")
#: node_exporter usually runs as its own user: the file must be readable by others
FILE_MODE = 0o644


class Gauges:
    """The registry of one run: gauges made on their first sample, so one without samples is left out."""

    def __init__(self):
        self.registry = CollectorRegistry()
        self._made: dict[str, Gauge] = {}

    def set(self, name: str, help: str, value: float, **labels: str) -> None:
        gauge = self._made.get(name)
        if gauge is None:
            gauge = self._made[name] = Gauge(PREFIX + name, help, sorted(labels), registry=self.registry)
        (gauge.labels(**labels) if labels else gauge).set(float(value))


def host_gauges(gauges: Gauges, document: dict, last_success: dict[str, int]) -> None:
    """The per-host gauges, hosts in name order."""
    for host, entry in sorted(hosts(document).items()):
        gauges.set("host_checked", "1 when the host was read in the last scheduled run, 0 when it could not be.",
                   was_read(entry), host=host)
        gauges.set("host_failed", "1 when the host could not be checked completely (error, failed change or blocked resource).",
                   failed(entry), host=host)
        gauges.set("host_resources_drifting", "Resources on the host that differ from the inventory.",
                   len(drifting(entry)), host=host)
        gauges.set("host_resources_blocked", "Resources on the host that could not be decided: they need a value no host gave.",
                   len(entry.get("blocked") or []), host=host)
        gauges.set("host_stale_copy", "1 when the host was bootstrapped from another inventory after the ops host's copy "
                   "was made: its drift is not judged.", stale(entry), host=host)
        gauges.set("host_check_duration_seconds", "Seconds the last scheduled run spent on the host.",
                   float(entry.get("elapsed") or 0.0), host=host)
        if host in last_success:
            gauges.set("host_last_success_timestamp_seconds", "Unix time of the host's last complete check.",
                       last_success[host], host=host)


def run_gauges(gauges: Gauges, document: dict, duration: float) -> None:
    """The gauges of the run as a whole."""
    entries = hosts(document).values()
    for status in STATUSES:
        gauges.set("hosts", "Hosts of the last scheduled run by status.",
                   sum(1 for e in entries if e.get("status") == status), status=status)
    gauges.set("copy_stale", "1 when the ops host's copy of the inventory is older than the fleet's last bootstrap.",
               any(stale(e) for e in entries))
    gauges.set("run_duration_seconds", "Seconds the drift check of the last scheduled run took.", duration)
    gauges.set("run_exit_code", "Exit code of the last drift check: 0 clean, 2 drift, 1 not every host checked, "
               "3 the ops host's copy is stale.", int(document.get("exit_code") or 0))
    gauges.set("run_report_written", "1 when the drift check wrote its report, 0 when it failed before (see the service log).",
               not document.get("error"))
    finished = finished_seconds(document)
    if finished is not None:
        gauges.set("run_finished_timestamp_seconds", "Unix time the last scheduled run finished.", finished)


def notification_gauges(gauges: Gauges, notification: dict | None) -> None:
    """How the last notification went; nothing before the first one."""
    if not notification:
        return
    gauges.set("notification_ok", "1 when the last notification command succeeded.", notification.get("ok") is True)
    at = notification.get("at")
    if isinstance(at, (int, float)) and not isinstance(at, bool):
        gauges.set("notification_timestamp_seconds", "Unix time of the last notification attempt.", at)


def collect(document: dict, last_success: dict[str, int], duration: float, notification: dict | None = None) -> CollectorRegistry:
    """The registry of one run's gauges."""
    gauges = Gauges()
    host_gauges(gauges, document, last_success)
    run_gauges(gauges, document, duration)
    notification_gauges(gauges, notification)
    return gauges.registry


def render(document: dict, last_success: dict[str, int], duration: float, notification: dict | None = None) -> str:
    """The whole textfile for one run, as the collector will read it."""
    return generate_latest(collect(document, last_success, duration, notification)).decode()


def write(textfile_dir: str | os.PathLike, registry: CollectorRegistry) -> Path:
    """Replace fleetfab_drift.prom atomically (prometheus_client writes beside it and renames;
    the collector reads only *.prom, never the partial file), readable by node_exporter."""
    path = Path(textfile_dir) / FILE_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    write_to_textfile(str(path), registry)
    os.chmod(path, FILE_MODE)
    return path
