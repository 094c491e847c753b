"""The run as Prometheus metrics, in the text format node_exporter's textfile collector reads.

Every metric is a gauge: each run replaces the whole file, so a value is
the state at the last run, never a count across runs. Per-host series are
labelled `host`; a host that left the selection disappears from the file,
and with it from Prometheus, instead of lingering at its last value.

    fleetfab_drift_host_checked{host}                        1 when the host was read this run
    fleetfab_drift_host_failed{host}                         1 when it could not be checked completely
    fleetfab_drift_host_resources_drifting{host}             resources that differ from the inventory
    fleetfab_drift_host_resources_blocked{host}              resources waiting for a value no host gave
    fleetfab_drift_host_check_duration_seconds{host}         time spent on the host
    fleetfab_drift_host_last_success_timestamp_seconds{host} last complete check (absent: never)
    fleetfab_drift_hosts{status}                             hosts per status (ok, changed, failed)
    fleetfab_drift_run_duration_seconds                      how long the drift check took
    fleetfab_drift_run_finished_timestamp_seconds            when the run's report was finished
    fleetfab_drift_run_exit_code                             0 clean, 2 drift, 1 not all checked
    fleetfab_drift_run_report_written                        0 when drift wrote no report
    fleetfab_drift_notification_ok                           how the last notification went
    fleetfab_drift_notification_timestamp_seconds            when it was attempted

An alert on `time() - fleetfab_drift_run_finished_timestamp_seconds`
catches a timer that stopped running; one on
`time() - fleetfab_drift_host_last_success_timestamp_seconds` a host that
has not been checked for too long.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from fleetfab.scheduled.atomic import write_text
from fleetfab.scheduled.documents import drifting, failed, finished_seconds, hosts, was_read

FILE_NAME = "fleetfab_drift.prom"
PREFIX = "fleetfab_drift_"
STATUSES = ("ok", "changed", "failed")
#: node_exporter usually runs as its own user: the file must be readable by others
FILE_MODE = 0o644


@dataclass
class Gauge:
    name: str
    help: str
    samples: list[tuple[dict[str, str], float]] = field(default_factory=list)

    def add(self, value: float, **labels: str) -> "Gauge":
        self.samples.append((labels, value))
        return self

    def lines(self) -> list[str]:
        """HELP, TYPE and one line per sample; a gauge without samples is left out entirely."""
        if not self.samples:
            return []
        head = [f"# HELP {PREFIX}{self.name} {escape_help(self.help)}", f"# TYPE {PREFIX}{self.name} gauge"]
        return head + [f"{PREFIX}{self.name}{label_set(labels)} {number(value)}" for labels, value in self.samples]


def escape_help(text: str) -> str:
    """HELP text escapes only backslash and line feed."""
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def escape_label(value: str) -> str:
    """Label values escape backslash, double quote and line feed."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def label_set(labels: dict[str, str]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{key}="{escape_label(str(value))}"' for key, value in labels.items()) + "}"


def number(value: float) -> str:
    """Whole numbers without a fraction (exit codes, counts, unix seconds), others as Python writes them."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int) or (math.isfinite(value) and float(value).is_integer()):
        return str(int(value))
    return repr(float(value))


def host_gauges(document: dict, last_success: dict[str, int]) -> list[Gauge]:
    """The per-host gauges, hosts in name order."""
    checked = Gauge("host_checked", "1 when the host was read in the last scheduled run, 0 when it could not be.")
    broken = Gauge("host_failed", "1 when the host could not be checked completely (error, failed change or blocked resource).")
    drifts = Gauge("host_resources_drifting", "Resources on the host that differ from the inventory.")
    blocked = Gauge("host_resources_blocked", "Resources on the host that could not be decided: they need a value no host gave.")
    elapsed = Gauge("host_check_duration_seconds", "Seconds the last scheduled run spent on the host.")
    success = Gauge("host_last_success_timestamp_seconds", "Unix time of the host's last complete check.")
    for host, entry in sorted(hosts(document).items()):
        checked.add(was_read(entry), host=host)
        broken.add(failed(entry), host=host)
        drifts.add(len(drifting(entry)), host=host)
        blocked.add(len(entry.get("blocked") or []), host=host)
        elapsed.add(float(entry.get("elapsed") or 0.0), host=host)
        if host in last_success:
            success.add(last_success[host], host=host)
    return [checked, broken, drifts, blocked, elapsed, success]


def run_gauges(document: dict, duration: float) -> list[Gauge]:
    """The gauges of the run as a whole."""
    by_status = Gauge("hosts", "Hosts of the last scheduled run by status.")
    entries = hosts(document).values()
    for status in STATUSES:
        by_status.add(sum(1 for e in entries if e.get("status") == status), status=status)
    finished = finished_seconds(document)
    gauges = [
        by_status,
        Gauge("run_duration_seconds", "Seconds the drift check of the last scheduled run took.").add(duration),
        Gauge("run_exit_code", "Exit code of the last drift check: 0 clean, 2 drift, 1 not every host checked.")
        .add(int(document.get("exit_code") or 0)),
        Gauge("run_report_written", "1 when the drift check wrote its report, 0 when it failed before (see the service log).")
        .add(not document.get("error")),
    ]
    if finished is not None:
        gauges.append(Gauge("run_finished_timestamp_seconds", "Unix time the last scheduled run finished.").add(finished))
    return gauges


def notification_gauges(notification: dict | None) -> list[Gauge]:
    """How the last notification went; nothing before the first one."""
    if not notification:
        return []
    gauges = [Gauge("notification_ok", "1 when the last notification command succeeded.").add(bool(notification.get("ok")))]
    if isinstance(notification.get("at"), (int, float)):
        gauges.append(Gauge("notification_timestamp_seconds", "Unix time of the last notification attempt.").add(notification["at"]))
    return gauges


def render(document: dict, last_success: dict[str, int], duration: float, notification: dict | None = None) -> str:
    """The whole textfile for one run."""
    gauges = host_gauges(document, last_success) + run_gauges(document, duration) + notification_gauges(notification)
    return "\n".join(line for gauge in gauges for line in gauge.lines()) + "\n"


def write(textfile_dir: str | os.PathLike, text: str) -> Path:
    """Replace fleetfab_drift.prom atomically: the collector reads only *.prom, never the partial file."""
    path = Path(textfile_dir) / FILE_NAME
    write_text(path, text, FILE_MODE)
    return path
