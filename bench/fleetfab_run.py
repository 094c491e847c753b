"""fleetfab's side of the benchmark: `fab bootstrap` / `fab drift` with the bench role.

The same engine path as the `fab` tasks (load and validate the inventory,
run_fleet, the plain progress view, the JSON report), with the roles of the
benchmark registered for this run only (`--workload scale`: bench/scale's
scratch role instead of base + bench):

    python -m bench.fleetfab_run apply|drift INVENTORY --json PATH [--workload bench|scale]
"""

from __future__ import annotations

import argparse
import sys

from bench import scale_role, workload
from fleetfab.cli.commands import drift_exit_code
from fleetfab.inventory import load_inventory
from fleetfab.report.jsonfile import report_document, write_report
from fleetfab.report.model import totals
from fleetfab.report.views import PlainView
from fleetfab.runner import RunOptions, run_fleet


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.fleetfab_run")
    parser.add_argument("mode", choices=("apply", "drift"))
    parser.add_argument("inventory")
    parser.add_argument("--json", required=True)
    parser.add_argument("--workload", choices=("bench", "scale"), default="bench")
    args = parser.parse_args(argv)
    bench_roles = scale_role.roles() if args.workload == "scale" else workload.roles()
    inventory = load_inventory(args.inventory, roles=bench_roles)
    selected = inventory.select(None)
    apply = args.mode == "apply"
    options = RunOptions(apply=apply, purpose="bootstrap" if apply else "drift", parallel=inventory.parallel)
    result = run_fleet(inventory, selected, options, PlainView(), roles=bench_roles)
    reports = result.reports
    if apply:
        code = 1 if totals(reports)["hosts_failed"] else 0
    else:
        code = drift_exit_code(reports)
    write_report(args.json, report_document("bootstrap" if apply else "drift", reports, result.redact, code))
    for report in reports:
        if report.error:
            print(f"[{report.host}] error: {report.error}", file=sys.stderr)
        for change in report.changes:
            if change.error:
                print(f"[{report.host}] {change.change.resource}: {change.error}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
