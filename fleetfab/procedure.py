"""Your own task's steps, run through fleetfab's engine: the public API for an operator's fabfile.

A procedure is what `wireguard.rotate` and the VM host tasks are: a few
ordered engine runs, each over some hosts, in which only the roles the step is
about act and every other role of the inventory stands idle. Each run takes
every host's lock, shows the live view, prints the changes and the summary,
writes each changed host's journal, and stops nothing but the host that fails.

    from invoke import task
    from fleetfab.procedure import Procedure

    @task(help={"json": "also write the report as JSON to this path"})
    def restart(c, json=None):
        '''Restart the application on the -H hosts, one at a time.'''
        proc = Procedure(c, "webapp.restart", json_path=json)
        for host in proc.with_role("webapp"):
            if proc.step({"webapp": Restarting()}, [host]):
                break
        proc.finish()

`Restarting` is a `fleetfab.role.Role` named like the role it stands in for,
whose `resources` (and `prepare`, `exports`, `handlers`) say what this step
does; a subclass of the real role keeps its exports and settings.
"""

from __future__ import annotations

from invoke import Exit

from fleetfab.cli import exitcodes
from fleetfab.cli.commands import consoles, load_or_explain, procedure
from fleetfab.cli.executor import selected_hosts
from fleetfab.report.jsonfile import report_document, write_report
from fleetfab.role import Idle, Role, procedure_roles

__all__ = ["Procedure", "Idle", "Role", "procedure_roles"]


class Procedure:
    """One task's run: the inventory loaded, -H resolved, and the steps' reports gathered.

    `selection` is the task's invoke Context (its -H names hosts and groups) or
    that text itself (None: every host). Bad input (the inventory, -H) is printed
    with every problem and ends the task with exit code 1 before any host is contacted.
    """

    def __init__(self, selection, purpose: str, json_path: str | None = None, parallel: int | None = None):
        self.purpose = purpose
        self.json_path = json_path
        self.parallel = parallel
        self.out, self.err = consoles(json_path)
        hosts = selection if selection is None or isinstance(selection, str) else selected_hosts(selection)
        loaded = load_or_explain(self.err, hosts, changes=True)
        if loaded is None:
            raise Exit(code=exitcodes.FAILED)
        self.inventory, self.selected = loaded
        #: 0 while every step succeeded, else the first failing step's code
        self.code = exitcodes.OK
        self.reports: list = []
        self._redactors: list = []

    def with_role(self, name: str) -> list:
        """The selected hosts that carry role `name`, in inventory order."""
        return [host for host in self.selected if host.has_role(name)]

    def step(self, acting: dict[str, Role], hosts: list | None = None, title: str | None = None) -> int:
        """One engine run over `hosts` (default: the selected ones) in which only `acting` roles act;
        0, or 1 when a host failed (the first failure is kept as the procedure's code)."""
        hosts = self.selected if hosts is None else hosts
        roles = procedure_roles(self.inventory, **acting)
        result, code = procedure(self.inventory, hosts, self.purpose, roles, self.out, self.err,
                                 title=title, parallel=self.parallel)
        self.reports += result.reports
        self._redactors.append(result.redact)
        if code and not self.code:
            self.code = code
        return code

    def _redact(self, text: str) -> str:
        """Every step's secrets masked: each run knows only the secrets it read."""
        for redact in self._redactors:
            text = redact(text)
        return text

    def finish(self) -> None:
        """Write the JSON report (every step's host reports) if asked; end the task with the code if not 0."""
        if self.json_path:
            write_report(self.json_path, report_document(self.purpose, self.reports, self._redact, self.code))
        if self.code:
            raise Exit(code=self.code)
