"""bootstrap, drift and inventory: load, select, run, report, exit code."""

from __future__ import annotations

import os
import sys

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from fleetfab.cli import exitcodes
from fleetfab.cli.interrupt import stop_on_interrupt
from fleetfab.inventory import InputError, Inventory, load_inventory
from fleetfab.report.jsonfile import report_document, to_stdout, write_report
from fleetfab.report.model import totals
from fleetfab.report.render import (changes_table, print_blocked, print_diffs, print_errors, print_remembered, shown,
                                    summary_table)
from fleetfab.report.views import make_view
from fleetfab.runner import RunOptions, refuse_changes_if_read_only, run_fleet


#: logs and cron mail are read later, in a wider window than a default terminal
LOG_WIDTH = 160


def consoles(json_path=None) -> tuple[Console, Console]:
    """(out, err); with `--json -` the JSON alone is standard output, and the tables go to standard error."""
    out, err = Console(stderr=to_stdout(json_path), highlight=False), Console(stderr=True, highlight=False)
    for console in (out, err):
        if not console.is_terminal:
            console.width = LOG_WIDTH
    return out, err


def load_or_explain(err: Console, hosts: str | None = None, changes: bool = False) -> tuple[Inventory, list] | None:
    """The inventory and the selected hosts, or None after printing every problem.

    `changes`: the task would change hosts, which an ops host's read-only
    copy of the inventory never may (it only checks them).
    """
    try:
        inventory = load_inventory()
        selected = inventory.select(hosts)
        if changes:
            refuse_changes_if_read_only(inventory)
        return inventory, selected
    except InputError as exc:
        explain(err, exc)
        return None


def explain(err: Console, exc: InputError) -> None:
    for problem in exc.problems:
        # one unwrapped line each, so editors and grep can jump to it
        print(problem, file=sys.stderr)
    err.print(f"{len(exc.problems)} problem(s); nothing was contacted.", style="bold red")


def parallelism(inventory: Inventory, override: int | None) -> int:
    env = os.environ.get("FLEETFAB_PARALLEL")
    return override or (int(env) if env else inventory.parallel)


def run_selected(hosts: str | None, purpose: str, apply: bool, parallel: int | None, force: bool = False,
                 json_path: str | None = None):
    """Load, select and run with a live view: (out, err, result), or None once bad input is explained."""
    out, err = consoles(json_path)
    loaded = load_or_explain(err, hosts, changes=apply)
    if loaded is None:
        return None
    inventory, selected = loaded
    options = RunOptions(apply=apply, purpose=purpose, parallel=parallelism(inventory, parallel), force=force)
    with stop_on_interrupt(options.stop), make_view([h.name for h in selected], out) as view:
        result = run_fleet(inventory, selected, options, view)
    result.interrupted = options.stop.is_set()
    return out, err, result


def bootstrap(hosts: str | None, dry: bool = False, json_path: str | None = None, parallel: int | None = None, force: bool = False) -> int:
    ran = run_selected(hosts, "bootstrap", apply=not dry, parallel=parallel, force=force, json_path=json_path)
    if ran is None:
        return exitcodes.FAILED
    out, err, result = ran
    reports, redact = result.reports, result.redact
    if dry:
        out.print(changes_table(reports, redact, "plan (nothing was changed)"))
        print_diffs(out, reports, redact)
    out.print(summary_table(reports, "bootstrap (dry run: nothing was changed)" if dry else "bootstrap", dry=dry))
    print_remembered(out, reports)
    print_blocked(err, reports, redact)
    print_errors(err, reports, redact)
    code = exitcodes.FAILED if totals(reports)["hosts_failed"] else exitcodes.OK
    if result.interrupted:
        code = exitcodes.INTERRUPTED
    if json_path:
        write_report(json_path, report_document("bootstrap --dry" if dry else "bootstrap", reports, redact, code))
    if code == exitcodes.OK and not dry:
        code = procedures_after(out, result.hosts)
    return code


def procedure(inventory: Inventory, hosts: list, purpose: str, roles: dict, out: Console, err: Console,
              title: str | None = None, parallel: int | None = None):
    """A multi-host procedure (a rotation, a guest's restart) through the engine, with the
    live view and the changes, summary and errors printed: (result, exit code)."""
    options = RunOptions(apply=True, purpose=purpose, parallel=parallelism(inventory, parallel))
    with make_view([h.name for h in hosts], out) as view:
        result = run_fleet(inventory, hosts, options, view, roles=roles)
    out.print(changes_table(result.reports, result.redact, title or purpose))
    out.print(summary_table(result.reports, purpose))
    print_errors(err, result.reports, result.redact)
    return result, exitcodes.FAILED if totals(result.reports)["hosts_failed"] else exitcodes.OK


def procedures_after(out: Console, hosts: list) -> int:
    """What the roles finish a converged bootstrap with (kubernetes: init, then joins); the first failure stops."""
    from fleetfab.inventory import load_inventory

    inventory = load_inventory()
    for role in inventory.roles.values():
        step = role.after_bootstrap(inventory, hosts)
        if step is None:
            continue
        out.print(f"bootstrap: then {role.name}'s own steps")
        code = step()
        if code != exitcodes.OK:
            return code
    return exitcodes.OK


def drift(hosts: str | None, json_path: str | None = None, parallel: int | None = None) -> int:
    ran = run_selected(hosts, "drift", apply=False, parallel=parallel, json_path=json_path)
    if ran is None:
        return exitcodes.FAILED
    out, err, result = ran
    reports, redact = result.reports, result.redact
    drifted = [r for r in reports if r.changes]
    if drifted:
        out.print(changes_table(reports, redact, "drift: what differs from the inventory"))
        print_diffs(out, reports, redact)
    print_remembered(out, reports)
    print_blocked(err, reports, redact)
    print_errors(err, reports, redact)
    code = exitcodes.INTERRUPTED if result.interrupted else drift_exit_code(reports)
    verdict = {exitcodes.OK: "no drift", exitcodes.DRIFT: f"drift on {len(drifted)} host(s)",
               exitcodes.FAILED: "some hosts could not be checked", exitcodes.INTERRUPTED: "interrupted"}
    out.print(f"{verdict[code]} ({len(reports)} host(s) checked)")
    if json_path:
        write_report(json_path, report_document("drift", reports, redact, code))
    return code


def drift_exit_code(reports) -> int:
    """1 if any host could not be checked (that outranks drift), 2 if any drifted."""
    if any(r.error or r.blocked for r in reports):
        return exitcodes.FAILED
    return exitcodes.DRIFT if any(r.changes for r in reports) else exitcodes.OK


def show_inventory() -> int:
    out, err = consoles()
    loaded = load_or_explain(err)
    if loaded is None:
        return exitcodes.FAILED
    inventory, hosts = loaded
    table = Table(title=f"inventory {inventory.path}")
    for column in ("host", "address", "user", "port", "groups", "roles"):
        table.add_column(column)
    for host in hosts:
        table.add_row(host.name, host.address, host.user, str(host.port), ", ".join(host.groups), ", ".join(host.roles))
    out.print(table)
    return exitcodes.OK


def show_roles(name: str | None = None) -> int:
    """Every role the inventory may use (fleetfab's, installed packages', its roles_path folders'), documented;
    with no inventory file, the installed ones. A role that cannot be loaded is named, with the rest shown."""
    from fleetfab.cli.roledoc import markdown
    from fleetfab.inventory.loader import default_inventory_path, roles_of

    found, problems = roles_of(default_inventory_path())
    for problem in problems:
        print(problem, file=sys.stderr)
    if name is not None and name not in found:
        print(f"no role {name!r}; roles: {', '.join(found)}", file=sys.stderr)
        return exitcodes.FAILED
    print("\n\n".join(markdown(f.role, f.origin) for f in found.values() if name in (None, f.role.name)))
    return exitcodes.FAILED if problems else exitcodes.OK


def history(hosts: str | None, last: int = 10) -> int:
    """The last runs that changed each selected host, newest first, read from the host's own journal."""
    from fleetfab import journal

    out, err = consoles()
    loaded = load_or_explain(err, hosts)
    if loaded is None:
        return exitcodes.FAILED
    inventory, selected = loaded
    code = exitcodes.OK
    for host in selected:
        text = read_on(inventory, host, journal.read_script(last), "history", "read the journal", err)
        if text is None:
            code = exitcodes.FAILED
            continue
        out.print(history_table(host.name, journal.newest_first(text)))
    return code


def read_on(inventory: Inventory, host, script: str, label: str, what: str, err: Console) -> str | None:
    """What `script` prints on one host, or None once its failure is printed (it stays on that host)."""
    from fleetfab.errors import describe_error
    from fleetfab.redact import Redactor
    from fleetfab.remote import Remote
    from fleetfab.ssh import connect

    try:
        remote = Remote(host.name, connect(host, inventory.ssh), Redactor(), sudo=host.user != "root")
        try:
            return remote.check(script, label, what).stdout
        finally:
            remote.close()
    except Exception as exc:
        err.print(f"{host.name}: {escape(describe_error(exc, inventory.ssh.connect_timeout, host, inventory.ssh))}", style="bold red")
        return None


def inventory_lines(revision: dict) -> list[str]:
    """Which inventory a run used: its path, its digest, and whether the file was committed
    (a commit names a file's content only when the file is that commit's)."""
    lines = [str(revision.get("path") or "?"), f"sha256 {str(revision.get('sha256') or '?')[:12]}"]
    commit, state = str(revision.get("git_commit") or "")[:10], revision.get("git_state")
    if not commit:
        lines.append("not in git")
    elif state == "committed":
        lines.append(f"committed in {commit}")
    elif state:
        lines.append(f"not committed ({state}; repository at {commit})")
    else:
        lines.append(f"repository at {commit} (file state not recorded)")
    return lines


def history_table(host: str, entries: list[dict]) -> Table:
    """The journal's lines as a table: the host wrote them, so every field is shown
    as text (control characters written out, never read as markup), whatever its type."""
    table = Table(title=f"{host}: last runs that changed it (newest first)")
    for column in ("when", "who", "command", "inventory", "changes"):
        table.add_column(column)
    for e in entries:
        e = e if isinstance(e, dict) else {}
        inventory = e.get("inventory") if isinstance(e.get("inventory"), dict) else {}
        revision = "\n".join(shown(line) for line in inventory_lines(inventory))
        changes = e.get("changes") if isinstance(e.get("changes"), list) else []
        listed = "\n".join(f"{shown(c.get('role'))}: {shown(c.get('resource'))}: {shown(c.get('summary'))}"
                           for c in changes if isinstance(c, dict))
        table.add_row(shown(e.get("at", "?")), shown(e.get("who", "?")), shown(e.get("command", "?")), revision,
                      listed or "(handlers only)")
    return table

