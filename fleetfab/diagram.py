"""The fleet as a picture: the inventory drawn as Graphviz DOT, as operators draw it by hand.

Everything up to the DOT text is a pure function of the inventory (and of a
drift report, when one is given), so it is tested without a host or Graphviz:

- hosts sit in nested clusters, one per group (a group inside the first
  group that lists it as a child). A host in several groups is drawn once,
  in its most specific group: the deepest one (the most levels of parent
  groups above it), and of equally deep ones the one written first under
  `groups:`. Its other groups are named in its label ("also in ...");
- a guest (a host with `vm: {host: HOST}`) is drawn inside its VM host's own
  cluster when it belongs to every group around that host; else (a guest off
  the mesh, whose VM host is inside the mesh's group) in its own group, with
  a dashed "VM guest" arrow from its VM host, since a box says membership;
- each host's label gives its name, address and roles; edge, mail and DNS
  hosts have shapes and borders of their own;
- the WireGuard mesh is a hub per mesh network, an undirected edge to each
  member labelled with its mesh address (dashed when it is behind NAT);
- a zone's primary has an arrow to each secondary, labelled with the zones
  it transfers; an edge host has an arrow to each backend of its sites;
- with a drift report, each host is filled by its status there.

The DOT source is written by the graphviz package (`fleet_graph` builds a
`graphviz.Digraph`; `fleet_dot` is its source), which quotes every name and
value. `write_diagram` renders the text with Graphviz's `dot` when it is
installed and an SVG or PNG is asked for, and writes the DOT source otherwise.
"""

from __future__ import annotations

import ipaddress
import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import graphviz

DEFAULT_OUTPUT = "fleet.dot"
RENDERED = {".svg": "svg", ".png": "png"}

#: drift state -> fill colour (X11 colour names, which Graphviz knows)
DRIFT_COLOURS = {
    "clean": "palegreen",
    "drift": "yellow",
    "failed": "tomato",
    "absent": "lightgrey",
}
DRIFT_LEGEND = {
    "clean": "clean",
    "drift": "drift (changes)",
    "failed": "failed / not checked",
    "absent": "not in the report",
}
NO_DRIFT_FILL = "white"

#: the first of these roles a host has decides its shape and border
ROLE_STYLES = {
    "edge": {"shape": "component", "color": "purple3", "penwidth": "2"},
    "mail": {"shape": "folder", "color": "royalblue3", "penwidth": "2"},
    "bind9": {"shape": "cylinder", "color": "darkorange3", "penwidth": "2"},
}
PLAIN_STYLE = {"shape": "box", "color": "gray30", "penwidth": "1"}

MESH_COLOUR = "steelblue"
DNS_COLOUR = "darkorange3"
BACKEND_COLOUR = "purple3"
ROLES_PER_LINE = 28  # characters, before the roles line wraps


# -- drift ----------------------------------------------------------------------

@dataclass(frozen=True)
class HostDrift:
    #: clean, drift or failed
    state: str
    detail: str


def drift_states(report: dict) -> dict[str, HostDrift]:
    """Each host's state in a `fab drift --json` report: clean, drift or failed.

    A status other than ok or changed (failed, or anything this version
    does not know) counts as failed: the host was not checked as it should be.
    """
    hosts = report.get("hosts") if isinstance(report, dict) else None
    if not isinstance(hosts, dict):
        raise ValueError("not a fleetfab JSON report: no 'hosts' mapping")
    states = {}
    for name, entry in hosts.items():
        entry = entry if isinstance(entry, dict) else {}
        status = entry.get("status")
        if status == "ok":
            states[name] = HostDrift("clean", "clean")
        elif status == "changed":
            count = entry.get("changed")
            states[name] = HostDrift("drift", f"drift: {count} change(s)" if isinstance(count, int) else "drift")
        else:
            states[name] = HostDrift("failed", "failed / not checked" if status == "failed" else f"status {status!r}")
    return states


def load_report(path) -> dict:
    """A JSON report from disk (`-`: standard input, `fab drift --json - | fab diagram --drift -`);
    ValueError, worded for the operator, if it is not one."""
    try:
        report = json.loads(sys.stdin.read() if str(path) == "-" else Path(path).read_text())
    except OSError as exc:
        raise ValueError(f"{path}: cannot read: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not JSON: {exc}") from None
    try:
        drift_states(report)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
    return report


def hosts_not_in_inventory(inventory, report: dict) -> list[str]:
    return [name for name in drift_states(report) if name not in inventory.hosts]


# -- where each host goes -----------------------------------------------------------

def group_parents(inventory) -> dict[str, list[str]]:
    """Each group's parent groups (those listing it as a child), in inventory order."""
    parents: dict[str, list[str]] = {name: [] for name in inventory.groups}
    for name, group in inventory.groups.items():
        for child in group.children:
            if child in parents and name not in parents[child]:
                parents[child].append(name)
    return parents


def group_depths(inventory) -> dict[str, int]:
    """Levels of parent groups above each group (the longest way up)."""
    parents = group_parents(inventory)
    depths: dict[str, int] = {}

    def depth(name: str, seen: tuple = ()) -> int:
        if name not in depths:
            above = [p for p in parents.get(name, ()) if p not in seen]
            depths[name] = 1 + max((depth(p, seen + (name,)) for p in above), default=-1)
        return depths[name]

    for name in inventory.groups:
        depth(name)
    return depths


def cluster_parent(inventory) -> dict[str, str | None]:
    """The cluster each group's cluster is drawn in: its first parent group."""
    return {name: (parents[0] if parents else None) for name, parents in group_parents(inventory).items()}


def home_group(inventory, host) -> str | None:
    """The group a host is drawn in: its deepest group, the first written of equally deep ones."""
    groups = [g for g in host.groups if g in inventory.groups]
    if not groups:
        return None
    depths = group_depths(inventory)
    order = {name: index for index, name in enumerate(inventory.groups)}
    return min(groups, key=lambda g: (-depths[g], order[g]))


def cluster_chain(inventory, group: str | None) -> list[str]:
    """A group and the clusters around it, innermost first."""
    parent = cluster_parent(inventory)
    chain: list[str] = []
    while group is not None and group not in chain:
        chain.append(group)
        group = parent.get(group)
    return chain


def vm_host_of(inventory, host) -> str | None:
    """The VM host a guest runs on (`vm: {host: NAME}`), if the inventory knows it.

    A loop of guests is ignored, and such a host drawn in its group (the
    vmhost role refuses such an inventory; the picture never fails on one).
    """
    seen = {host.name}
    current, target = host, None
    while True:
        on = current.hypervisor
        if on is None or on not in inventory.hosts:
            return target
        if on in seen:
            return None
        seen.add(on)
        target = target or on
        current = inventory.hosts[on]


def guests_by_vm_host(inventory) -> dict[str, list[str]]:
    """VM host -> the guests drawn inside its box: those in every group its box sits in."""
    guests: dict[str, list[str]] = {}
    for host in inventory.hosts.values():
        on = vm_host_of(inventory, host)
        if on is not None and fits_inside(inventory, host, inventory.hosts[on]):
            guests.setdefault(on, []).append(host.name)
    return guests


def fits_inside(inventory, guest, vm_host) -> bool:
    """Whether drawing `guest` in `vm_host`'s box would put it only in group boxes it belongs to."""
    return set(cluster_chain(inventory, home_group(inventory, vm_host))) <= set(guest.groups)


def guests_apart(inventory) -> list[tuple[str, str]]:
    """(VM host, guest) for guests drawn in their own group, joined to their VM host by an arrow."""
    found = []
    for host in inventory.hosts.values():
        on = vm_host_of(inventory, host)
        if on is not None and not fits_inside(inventory, host, inventory.hosts[on]):
            found.append((on, host.name))
    return found


def also_in(inventory, host) -> list[str]:
    """The host's groups its cluster does not show, in inventory order."""
    shown = set(cluster_chain(inventory, home_group(inventory, host)))
    on = vm_host_of(inventory, host)
    if on is not None and fits_inside(inventory, host, inventory.hosts[on]):
        # drawn in its VM host's box, inside the groups around that host
        shown = set(cluster_chain(inventory, home_group(inventory, inventory.hosts[on])))
    return [g for g in inventory.groups if g in host.groups and g not in shown]


# -- what the roles say ------------------------------------------------------------------

@dataclass(frozen=True)
class MeshLink:
    network: str
    host: str
    address: str
    behind_nat: bool


def mesh_link(host) -> MeshLink | None:
    """A host's place on the WireGuard mesh, None if it is not a member."""
    from fleetfab.roles.wireguard.mesh import ROLE, member

    if ROLE not in host.roles:
        return None
    try:
        m = member(host)
        network = str(ipaddress.ip_network(host.settings(ROLE)["network"]))
    except (KeyError, ValueError):
        return None  # reported by the role's own checks
    return MeshLink(network, host.name, str(m.address), m.behind_nat)


def mesh_links(inventory) -> list[MeshLink]:
    """Every WireGuard member with its mesh address, in inventory order."""
    return [link for link in map(mesh_link, inventory.hosts.values()) if link is not None]


def zone_transfers(inventory) -> dict[tuple[str, str], list[str]]:
    """(primary, secondary) -> the zones the secondary transfers from the primary."""
    from fleetfab.roles.bind9.fleet import fleet_zones

    transfers: dict[tuple[str, str], list[str]] = {}
    for zone in fleet_zones(inventory).values():
        for secondary in zone.secondaries:
            transfers.setdefault((zone.primary.name, secondary.name), []).append(zone.name)
    return transfers


def dns_server_kind(host) -> str | None:
    if "bind9" not in host.roles:
        return None
    return host.settings("bind9").get("server")


@dataclass(frozen=True)
class BackendLink:
    edge: str
    #: an inventory host name, or None for an address outside the inventory
    host: str | None
    target: str
    sites: tuple[str, ...]


def backend_links(inventory) -> list[BackendLink]:
    """Each edge host's backends, one link per (edge host, backend) with the sites using it."""
    found: dict[tuple[str, str], list[str]] = {}
    for host in inventory.with_role("edge"):
        for site, spec in sorted((host.settings("edge").get("sites") or {}).items()):
            for backend in spec.get("backends") or ():
                sites = found.setdefault((host.name, backend), [])
                if site not in sites:
                    sites.append(site)
    links = []
    for (edge, backend), sites in found.items():
        name, _, _port = backend.rpartition(":")
        links.append(BackendLink(edge, name if name in inventory.hosts else None, backend, tuple(sites)))
    return links


# -- the DOT text --------------------------------------------------------------------------

def literal(value) -> str:
    """Label or tooltip text shown as written.

    Graphviz reads these as escString, where a backslash starts an escape
    (\\n, \\l, \\N ...) and `<...>` is an HTML label: graphviz.escape keeps
    both literal. Each line break is written as escString's \\n, so every
    statement of the source stays on one line.
    """
    return graphviz.nohtml("\\n".join(graphviz.escape(line) for line in re.split(r"\r\n?|\n", str(value))))


def host_style(host) -> dict:
    for role, style in ROLE_STYLES.items():
        if role in host.roles:
            return dict(style)
    return dict(PLAIN_STYLE)


def _wrap(items: list[str], width: int = ROLES_PER_LINE) -> list[str]:
    lines, line = [], ""
    for item in items:
        candidate = f"{line}, {item}" if line else item
        if line and len(candidate) > width:
            lines.append(line + ",")
            line = item
        else:
            line = candidate
    return lines + ([line] if line else [])


def host_label(inventory, host, drift: HostDrift | None = None, with_drift: bool = False) -> str:
    roles = []
    for role in host.roles:
        kind = dns_server_kind(host) if role == "bind9" else None
        roles.append(f"{role} ({kind})" if kind else role)
    lines = [host.name, host.address]
    lines += _wrap(roles) if roles else ["(no roles)"]
    link = mesh_link(host)
    if link is not None:
        lines.append(f"mesh {link.address}" + (" (behind NAT)" if link.behind_nat else ""))
    extra = also_in(inventory, host)
    if extra:
        lines += _wrap(["also in: " + extra[0]] + extra[1:])
    if with_drift:
        lines.append(drift.detail if drift is not None else "not in the drift report")
    return "\n".join(lines)


def host_attributes(inventory, host, drift: dict[str, HostDrift] | None) -> dict:
    attrs = {"label": literal(host_label(inventory, host, (drift or {}).get(host.name), drift is not None))}
    attrs.update(host_style(host))
    state = None
    if drift is not None:
        state = drift[host.name].state if host.name in drift else "absent"
    attrs["fillcolor"] = DRIFT_COLOURS[state] if state else NO_DRIFT_FILL
    attrs["style"] = "filled,rounded" if attrs["shape"] == "box" else "filled"
    attrs["tooltip"] = literal(f"{host.name} ({host.user}@{host.address}:{host.port})")
    return attrs


def group_cluster_id(group: str) -> str:
    return f"cluster_group_{group}"


def vm_cluster_id(host: str) -> str:
    return f"cluster_vm_{host}"


# graphviz's Digraph.edge reads a colon in a node name as the start of a port
# (NAME:PORT:COMPASS), so the hub and outside-backend names, which hold IPv6
# networks and host:port, carry a space for each colon (none of them has one).

def mesh_id(network: str) -> str:
    return f"mesh {network}".replace(":", " ")


def external_id(target: str) -> str:
    return f"backend {target}".replace(":", " ")


def fleet_dot(inventory, drift_report: dict | None = None, title: str | None = None) -> str:
    """The whole fleet as Graphviz DOT source."""
    return fleet_graph(inventory, drift_report, title).source


def fleet_graph(inventory, drift_report: dict | None = None, title: str | None = None) -> graphviz.Digraph:
    """The whole fleet as a Graphviz digraph (the mesh's edges carry no direction)."""
    drift = drift_states(drift_report) if drift_report is not None else None
    hosts = inventory.hosts
    guests = guests_by_vm_host(inventory)
    guest_names = {g for names in guests.values() for g in names}
    placed: dict[str | None, list[str]] = {}
    for host in hosts.values():
        if host.name not in guest_names:
            placed.setdefault(home_group(inventory, host), []).append(host.name)
    needed = {g for group in placed if group is not None for g in cluster_chain(inventory, group)}
    parent = cluster_parent(inventory)

    caption = title or f"fleet: {Path(str(inventory.path)).name}"
    if drift_report is not None:
        caption += "\ncoloured by the drift report" + (f" of {drift_report['finished']}" if drift_report.get("finished") else "")
    graph = graphviz.Digraph(
        "fleet",
        graph_attr={"label": literal(caption), "labelloc": "t", "fontname": "Helvetica", "fontsize": "16",
                    "compound": "true", "newrank": "true", "nodesep": "0.4", "ranksep": "0.7"},
        node_attr={"fontname": "Helvetica", "fontsize": "11", "margin": "0.15,0.08"},
        edge_attr={"fontname": "Helvetica", "fontsize": "10"})

    def add_host(into: graphviz.Digraph, name: str) -> None:
        if name not in guests:
            into.node(name, **host_attributes(inventory, hosts[name], drift))
            return
        with into.subgraph(name=vm_cluster_id(name), graph_attr={
                "label": literal(f"VM host {name}"), "style": "dashed", "color": "gray40"}) as box:
            box.node(name, **host_attributes(inventory, hosts[name], drift))
            for guest in guests[name]:
                add_host(box, guest)

    def add_group(into: graphviz.Digraph, group: str) -> None:
        with into.subgraph(name=group_cluster_id(group), graph_attr={
                "label": literal(group), "style": "rounded", "color": "gray50", "labeljust": "l"}) as box:
            for child in inventory.groups:
                if child in needed and parent.get(child) == group:
                    add_group(box, child)
            for name in placed.get(group, ()):
                add_host(box, name)

    for group in inventory.groups:
        if group in needed and parent.get(group) is None:
            add_group(graph, group)
    for name in placed.get(None, ()):
        add_host(graph, name)

    links = mesh_links(inventory)
    for network in dict.fromkeys(link.network for link in links):
        graph.node(mesh_id(network), literal(f"WireGuard mesh\n{network}"), shape="ellipse", style="dashed",
                   color=MESH_COLOUR, fontcolor=MESH_COLOUR)
    for link in links:
        graph.edge(mesh_id(link.network), link.host, dir="none", color=MESH_COLOUR,
                   tooltip=literal(f"{link.host} on the mesh: {link.address}"),
                   style="dashed" if link.behind_nat else None)

    for vm_host, guest in guests_apart(inventory):
        graph.edge(vm_host, guest, literal("VM guest"), style="dashed", color="gray40", fontcolor="gray40")

    for (primary, secondary), zones in zone_transfers(inventory).items():
        graph.edge(primary, secondary, literal("zone transfer\n" + "\n".join(zones)), color=DNS_COLOUR,
                   fontcolor=DNS_COLOUR, penwidth="2")

    backends = backend_links(inventory)
    for target in dict.fromkeys(link.target for link in backends if link.host is None):
        graph.node(external_id(target), literal(target), shape="box", style="dashed", color=BACKEND_COLOUR)
    for link in backends:
        port = link.target.rpartition(":")[2]
        label = ", ".join(link.sites) + (f" :{port}" if link.host else "")
        graph.edge(link.edge, link.host or external_id(link.target), literal(label), color=BACKEND_COLOUR,
                   fontcolor=BACKEND_COLOUR)

    _legend(graph, inventory, drift is not None)
    return graph


def _legend(graph: graphviz.Digraph, inventory, with_drift: bool) -> None:
    shown = [role for role in ROLE_STYLES if inventory.with_role(role)]
    if not shown and not with_drift:
        return
    entries = []
    names = {"edge": "edge host", "mail": "mail host", "bind9": "name server"}
    for role in shown:
        entries.append((f"legend {role}", {"label": literal(names[role]), **ROLE_STYLES[role], "style": "filled",
                                           "fillcolor": NO_DRIFT_FILL, "fontsize": "9"}))
    if with_drift:
        for state, colour in DRIFT_COLOURS.items():
            entries.append((f"legend {state}", {"label": literal(DRIFT_LEGEND[state]), "shape": "box",
                                                "style": "filled,rounded", "fillcolor": colour, "fontsize": "9"}))
    with graph.subgraph(name="cluster_legend", graph_attr={
            "label": literal("legend"), "style": "dotted", "color": "gray60", "labeljust": "l", "rank": "same"}) as box:
        for node, attrs in entries:
            box.node(node, **attrs)
        # invisible edges keep the legend's entries in one row, in order
        for (previous, _), (node, _) in zip(entries, entries[1:]):
            box.edge(previous, node, style="invis")


# -- writing it ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Written:
    path: Path
    #: svg or png when Graphviz rendered it, None for DOT source
    format: str | None
    #: why DOT source was written where a picture was asked for, else None
    fallback: str | None = None


def write_diagram(text: str, output: str | Path, dot: str | None = None) -> Written:
    """Render `text` to an .svg/.png `output` with Graphviz's dot if it is on PATH, else write the DOT source.

    Without dot, a picture asked for becomes its DOT source beside it
    (fleet.svg -> fleet.dot), never DOT text under a picture's name.
    Raises RuntimeError if dot fails.
    """
    output = Path(output)
    fmt = RENDERED.get(output.suffix.lower())
    if fmt is None:
        _write_text(output, text)
        return Written(output, None)
    dot = dot or shutil.which("dot")
    if dot is None:
        source = output.with_suffix(".dot")
        _write_text(source, text)
        return Written(source, None, f"Graphviz's dot is not installed (apt-get install graphviz), so no {fmt} was drawn")
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(f".{output.name}.partial")
    done = subprocess.run([dot, f"-T{fmt}", "-o", str(partial)], input=text.encode(), capture_output=True)
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        raise RuntimeError(f"dot -T{fmt} failed: {done.stderr.decode(errors='replace').strip()}")
    partial.replace(output)
    return Written(output, fmt)


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text)
    partial.replace(path)


def command(output: str = DEFAULT_OUTPUT, drift_path: str | None = None) -> int:
    """`fab diagram`: load the inventory, draw it, write or render it; the exit code."""
    import sys

    from fleetfab.cli import exitcodes
    from fleetfab.cli.commands import consoles, load_or_explain

    out, err = consoles()
    loaded = load_or_explain(err)
    if loaded is None:
        return exitcodes.FAILED
    inventory, _hosts = loaded
    report = None
    if drift_path:
        try:
            report = load_report(drift_path)
        except ValueError as exc:
            print(exc, file=sys.stderr)
            return exitcodes.FAILED
        unknown = hosts_not_in_inventory(inventory, report)
        if unknown:
            print(f"{drift_path}: not in the inventory, not drawn: {', '.join(unknown)}", file=sys.stderr)
    text = fleet_dot(inventory, report)
    if output == "-":
        sys.stdout.write(text)
        return exitcodes.OK
    try:
        written = write_diagram(text, output)
    except (RuntimeError, OSError) as exc:
        print(f"diagram: {exc}", file=sys.stderr)
        return exitcodes.FAILED
    if written.fallback:
        err.print(f"{written.fallback}: wrote the DOT source to {written.path} instead "
                  f"(dot -T{RENDERED[Path(output).suffix.lower()]} {written.path} draws it)")
    elif written.format:
        out.print(f"drew the fleet ({len(inventory.hosts)} hosts) to {written.path} with Graphviz")
    else:
        out.print(f"wrote the fleet's DOT source ({len(inventory.hosts)} hosts) to {written.path}")
    return exitcodes.OK
