"""Figures: median with min and max, the markdown table, the last line, round trips."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

TOOLS = ("fleetfab", "pyinfra", "ansible")
MEASUREMENTS = ("first apply", "no-change re-apply", "read-only check")
#: what the read-only check is called by each tool
CHECK_NAMES = {"fleetfab": "drift", "pyinfra": "--dry", "ansible": "--check"}


@dataclass(frozen=True)
class Figure:
    median: float
    low: float
    high: float
    runs: int

    def as_dict(self) -> dict:
        return {"median": round(self.median, 3), "min": round(self.low, 3), "max": round(self.high, 3), "runs": self.runs}

    def cell(self) -> str:
        return f"{self.median:.2f} ({self.low:.2f}–{self.high:.2f})"


def figure(samples: list[float]) -> Figure | None:
    if not samples:
        return None
    return Figure(statistics.median(samples), min(samples), max(samples), len(samples))


def ratio(a: Figure | None, b: Figure | None) -> str:
    if a is None or b is None or b.median == 0:
        return "–"
    return f"{a.median / b.median:.1f}x"


def table(figures: dict, floor: Figure | None, title: str) -> str:
    """figures[tool][measurement] -> Figure; seconds, median (min–max)."""
    lines = [
        f"**{title}** — seconds, median (min–max)",
        "",
        "| tool | first apply | no-change re-apply | read-only check |",
        "|---|---|---|---|",
    ]
    for tool in TOOLS:
        cells = [cell(figures, tool, m) for m in MEASUREMENTS]
        lines.append(f"| {tool} | " + " | ".join(cells) + " |")
    lines.append(f"| floor (ThreadingGroup `true`) | | | {floor.cell() if floor else 'failed'} |")
    lines.append("")
    lines.append(comparisons(figures, floor))
    return "\n".join(lines)


def cell(figures: dict, tool: str, measurement: str) -> str:
    """A tool left out of the run was not measured; one that ran but never succeeded failed."""
    if tool not in figures:
        return "not measured"
    f = figures[tool].get(measurement)
    return f.cell() if f else "failed"


def comparisons(figures: dict, floor: Figure | None) -> str:
    ff = figures.get("fleetfab", {})
    parts = []
    for m, short in (("read-only check", "drift"), ("no-change re-apply", "re-apply")):
        parts.append(
            f"{short}: fleetfab/floor {ratio(ff.get(m), floor)}, "
            f"pyinfra/fleetfab {ratio(figures.get('pyinfra', {}).get(m), ff.get(m))}, "
            f"ansible/fleetfab {ratio(figures.get('ansible', {}).get(m), ff.get(m))}"
        )
    return "; ".join(parts)


def seconds(f: Figure | None) -> str:
    return f"{f.median:.2f}" if f else "failed"


def last_line(n: int, figures: dict, floor: Figure | None) -> str:
    """`drift N=<n>: fleetfab=<s> pyinfra=<s> ansible=<s> floor=<s>` (medians, seconds).

    A tool left out of the run reads `not-measured`: still one word, so the
    line splits the same way.
    """
    check = {
        tool: seconds(figures[tool].get("read-only check")) if tool in figures else "not-measured"
        for tool in TOOLS
    }
    return (
        f"drift N={n}: fleetfab={check['fleetfab']} pyinfra={check['pyinfra']} "
        f"ansible={check['ansible']} floor={seconds(floor)}"
    )


def round_trips(report: dict) -> dict:
    """From a fleetfab JSON report: per label, the min and max over hosts, and per role."""
    hosts = report.get("hosts", {})
    labels = sorted({label for h in hosts.values() for label in (h.get("round_trips") or {})})
    per_label = {}
    for label in labels:
        counts = [(h.get("round_trips") or {}).get(label, 0) for h in hosts.values()]
        per_label[label] = {"min": min(counts), "max": max(counts)}
    totals = [sum((h.get("round_trips") or {}).values()) for h in hosts.values()]
    return {
        "per_label": per_label,
        "total_per_host": {"min": min(totals), "max": max(totals)} if totals else {},
    }


def targets(figures: dict, floor: Figure | None, trips: dict | None, roles: int) -> list[tuple[str, bool | None, str]]:
    """(target, met?, the figures behind it); None when it could not be measured."""
    ff = figures.get("fleetfab", {})
    out = []

    def check(name: str, a: Figure | None, b: Figure | None, test) -> None:
        if a is None or b is None:
            out.append((name, None, "not measured"))
        else:
            out.append((name, test(a.median / b.median), f"{a.median:.2f} s vs {b.median:.2f} s = {a.median / b.median:.2f}x"))

    for m, short in (("read-only check", "drift"), ("no-change re-apply", "no-change re-apply")):
        check(f"{short} within 1.5x of the floor", ff.get(m), floor, lambda r: r <= 1.5)
        check(f"{short} >= 5x faster than pyinfra", figures.get("pyinfra", {}).get(m), ff.get(m), lambda r: r >= 5)
        check(f"{short} >= 10x faster than Ansible", figures.get("ansible", {}).get(m), ff.get(m), lambda r: r >= 10)
    if trips and trips.get("total_per_host"):
        worst = trips["total_per_host"]["max"]
        labels = ", ".join(f"{k}={v['max']}" for k, v in trips["per_label"].items())
        out.append((
            "drift: at most 2 SSH round trips per host per role",
            worst <= 2 * roles,
            f"{worst} round trips per host for {roles} roles ({labels})",
        ))
    return out
