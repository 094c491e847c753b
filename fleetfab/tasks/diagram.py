"""fab diagram: the fleet as a picture (Graphviz DOT, rendered when Graphviz is installed)."""

from invoke import Exit, task


@task(help={
    "output": "where to write it (default fleet.dot); .svg or .png is drawn with Graphviz's dot when installed, "
              "otherwise the DOT source is written beside it; - prints the DOT source",
    "drift": "colour each host by this JSON report of `fab drift --json PATH`",
})
def diagram(c, output="fleet.dot", drift=None):
    """Draw the whole inventory: groups, roles, the WireGuard mesh, DNS transfers, edge backends."""
    from fleetfab.diagram import command

    code = command(output=output, drift_path=drift)
    if code:
        raise Exit(code=code)
