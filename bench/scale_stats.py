"""The scale bench's figures: per N medians, the slope per 100 hosts, the CPU ratio, the tables.

Pure: samples in, figures and markdown out, so every number in
bench/RESULTS.md can be recomputed from the JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from bench.stats import Figure, figure

APPLY, REAPPLY, DRIFT, FLOOR = "first apply", "no-change re-apply", "drift", "floor"
#: (tool, measurement) rows, in table order
ROWS = (
    ("fleetfab", APPLY), ("fleetfab", REAPPLY), ("fleetfab", DRIFT),
    ("pyinfra", APPLY), ("pyinfra", REAPPLY), ("pyinfra", DRIFT),
    ("floor", FLOOR),
)
#: what each table shows: (sample key, title, unit, decimals)
QUANTITIES = (
    ("wall", "wall time", "s", 2),
    ("cpu", "controller CPU time (user+sys)", "s", 2),
    ("max_rss_mib", "controller peak memory (max RSS)", "MiB", 0),
)


@dataclass(frozen=True)
class Sample:
    tool: str
    measurement: str
    n: int
    run: int
    wall: float
    cpu: float
    max_rss_mib: float
    failed_hosts: int
    ok: bool

    @classmethod
    def from_dict(cls, d: dict) -> "Sample":
        return cls(**{k: d[k] for k in cls.__dataclass_fields__})


def values(samples: list[Sample], tool: str, measurement: str, n: int, quantity: str) -> list[float]:
    """The successful samples' values: a run with a failed host measures less work."""
    return [getattr(s, quantity) for s in samples if (s.tool, s.measurement, s.n) == (tool, measurement, n) and s.ok]


def slope_per_100(points: list[tuple[int, float]]) -> float | None:
    """Least-squares slope of y over N, times 100: what each further 100 hosts add."""
    if len({n for n, _ in points}) < 2:
        return None
    mean_n = sum(n for n, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    spread = sum((n - mean_n) ** 2 for n, _ in points)
    return 100 * sum((n - mean_n) * (y - mean_y) for n, y in points) / spread


def row_figures(samples: list[Sample], tool: str, measurement: str, quantity: str, ns: list[int]) -> dict[int, Figure | None]:
    return {n: figure(values(samples, tool, measurement, n, quantity)) for n in ns}


def row_slope(figures: dict[int, Figure | None]) -> float | None:
    return slope_per_100([(n, f.median) for n, f in figures.items() if f is not None])


def failed_hosts(samples: list[Sample], tool: str, measurement: str, n: int) -> tuple[int, int]:
    """(failed hosts summed over runs, runs): every run counts here, the failed ones too."""
    mine = [s for s in samples if (s.tool, s.measurement, s.n) == (tool, measurement, n)]
    return sum(s.failed_hosts for s in mine), len(mine)


def cpu_ratios(samples: list[Sample], n: int) -> list[float]:
    """fleetfab drift CPU / floor CPU, run by run: both measured on the same endpoints, one after the other."""
    def by_run(tool, measurement):
        return {s.run: s.cpu for s in samples if (s.tool, s.measurement, s.n) == (tool, measurement, n) and s.ok}

    drift, floor = by_run("fleetfab", DRIFT), by_run("floor", FLOOR)
    return [drift[r] / floor[r] for r in sorted(drift) if r in floor and floor[r] > 0]


def consecutive_clean(series: list[int]) -> int:
    """The longest stretch of consecutive runs with no failed host, from a list of failed-host counts."""
    best = current = 0
    for failed in series:
        current = current + 1 if failed == 0 else 0
        best = max(best, current)
    return best


def present_rows(samples: list[Sample]) -> list[tuple[str, str]]:
    """The rows that were measured: the usual ones in order, then any other (a multi-process fleetfab)."""
    measured = {(s.tool, s.measurement) for s in samples}
    return [row for row in ROWS if row in measured] + sorted(measured - set(ROWS))


def table(samples: list[Sample], quantity: str) -> str:
    """One quantity: a row per tool and measurement, a column per N, then the slope."""
    _, title, unit, decimals = next(q for q in QUANTITIES if q[0] == quantity)
    ns = sorted({s.n for s in samples})
    lines = [
        f"{title}, {unit}: median (min–max)",
        "",
        "| tool | measurement | " + " | ".join(f"N={n}" for n in ns) + f" | per 100 hosts ({unit}) |",
        "|---|---|" + "---|" * len(ns) + "---|",
    ]
    for tool, measurement in present_rows(samples):
        figures = row_figures(samples, tool, measurement, quantity, ns)
        cells = [_cell(figures[n], decimals) for n in ns]
        slope = row_slope(figures)
        lines.append(f"| {tool} | {measurement} | " + " | ".join(cells) + f" | {_number(slope, decimals)} |")
    return "\n".join(lines)


def failures_table(samples: list[Sample]) -> str:
    ns = sorted({s.n for s in samples})
    lines = [
        "failed hosts, summed over runs (runs)",
        "",
        "| tool | measurement | " + " | ".join(f"N={n}" for n in ns) + " |",
        "|---|---|" + "---|" * len(ns),
    ]
    for tool, measurement in present_rows(samples):
        cells = []
        for n in ns:
            failed, runs = failed_hosts(samples, tool, measurement, n)
            cells.append(f"{failed} ({runs})" if runs else "–")
        lines.append(f"| {tool} | {measurement} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def ratio_line(samples: list[Sample]) -> str:
    parts = []
    for n in sorted({s.n for s in samples}):
        ratios = cpu_ratios(samples, n)
        f = figure(ratios)
        if f:
            parts.append(f"N={n}: {f.median:.2f} ({f.low:.2f}–{f.high:.2f}, {f.runs} runs)")
    return "fleetfab drift CPU / floor CPU, same endpoints, same run: " + ("; ".join(parts) if parts else "not measured")


def report(samples: list[Sample]) -> str:
    parts = [table(samples, q) for q, *_ in QUANTITIES]
    parts.append(failures_table(samples))
    parts.append(ratio_line(samples))
    return "\n\n".join(parts)


def _cell(f: Figure | None, decimals: int) -> str:
    if f is None:
        return "–"
    if f.runs == 1:
        return f"{f.median:.{decimals}f}"
    return f"{f.median:.{decimals}f} ({f.low:.{decimals}f}–{f.high:.{decimals}f})"


def _number(x: float | None, decimals: int) -> str:
    return "–" if x is None else f"{x:+.{max(decimals, 1)}f}"


def samples_of(document: dict, first_run: int = 0) -> list[Sample]:
    """A document's samples, their runs numbered from `first_run` on, so runs of several documents stay apart."""
    samples = [Sample.from_dict(d) for d in document.get("samples", [])]
    return [replace(s, run=s.run + first_run) for s in samples]


def main(argv: list[str] | None = None) -> int:
    """`python -m bench.scale_stats A.json [B.json ...]`: one report over the samples of several runs of bench/scale."""
    import json
    import sys

    paths = argv if argv is not None else sys.argv[1:]
    samples: list[Sample] = []
    for path in paths:
        samples += samples_of(json.loads(open(path).read()), first_run=max((s.run for s in samples), default=0))
    print(report(samples))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
