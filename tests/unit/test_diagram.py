"""fab diagram: the lab inventory drawn as Graphviz DOT, drift colours, escaping, writing the picture."""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from fleetfab import diagram
from fleetfab.diagram import DRIFT_COLOURS, fleet_dot, write_diagram
from fleetfab.inventory import load_inventory

LAB = Path(__file__).resolve().parents[2] / "inventory" / "lab.yml"

REPORT = {
    "command": "drift",
    "finished": "2026-11-22T03:00:00Z",
    "exit_code": 1,
    "hosts": {
        "cp1": {"status": "ok", "changed": 0},
        "ns1": {"status": "changed", "changed": 2},
        "mail1": {"status": "failed", "changed": 0, "error": "could not connect"},
    },
}


# -- a reader for DOT source: what it says, whatever its quoting, spacing or attribute order --------------

TOKEN = re.compile(r"""\s*(?:
      "(?P<string>(?:[^"\\]|\\.)*)"        # a double-quoted string
    | (?P<punct>->|[{}\[\];,=])
    | (?P<id>[A-Za-z0-9_.\-\x80-\uffff]+)   # a name or a number
    )""", re.VERBOSE | re.DOTALL)
KEYWORDS = {"digraph", "subgraph", "graph", "node", "edge", "strict"}


def tokens(text: str) -> list[tuple[str, str]]:
    """(kind, value): 'id' (names, numbers and quoted strings, still escaped), 'kw' or the punctuation itself.

    Anything else (a colon, as in NAME:PORT) is refused, and so is an unterminated string."""
    found, at, end = [], 0, len(text.rstrip())
    while at < end:
        m = TOKEN.match(text, at)
        assert m, f"not DOT at {at}: {text[at:at + 40]!r}"
        if m.group("string") is not None:
            found.append(("id", m.group("string")))
        elif m.group("id") is not None:
            found.append(("kw" if m.group("id").lower() in KEYWORDS else "id", m.group("id")))
        else:
            found.append((m.group("punct"), m.group("punct")))
        at = m.end()
    return found


def name(raw: str) -> str:
    """A name as DOT reads it: in a quoted string only \\" is an escape."""
    return raw.replace('\\"', '"')


def unescape(raw: str) -> str:
    """An attribute value as Graphviz shows it (escString): \\n a line break, \\X the character X."""
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), raw, flags=re.DOTALL)


@dataclasses.dataclass
class Dot:
    graph: dict  # the top-level graph's attributes
    nodes: dict  # id -> {"attrs": {...}, "clusters": [outermost ... innermost]}
    edges: list  # (tail, head, attrs)
    clusters: dict  # id -> {"attrs": {...}, "clusters": [the clusters around it]}
    statements: list  # every node statement's id, in order (a node written twice is there twice)

    def edge(self, tail: str, head: str) -> dict:
        found = [a for t, h, a in self.edges if (t, h) == (tail, head)]
        assert len(found) == 1, f"{tail} -> {head}: {len(found)} edges"
        return found[0]


def read(text: str) -> Dot:
    """The DOT source fleet_dot writes, parsed: statements, nested subgraphs and attribute lists."""
    toks = tokens(text)
    dot = Dot({}, {}, [], {}, [])
    at = 0

    def take(kind=None) -> str:
        nonlocal at
        assert at < len(toks), "DOT source ends early"
        got, value = toks[at]
        assert kind is None or got == kind, f"expected {kind}, found {value!r} (token {at})"
        at += 1
        return value

    def peek() -> str | None:
        return toks[at][0] if at < len(toks) else None

    def attr_lists() -> dict:
        attrs = {}
        while peek() == "[":
            take("[")
            while peek() != "]":
                key = name(take("id"))
                take("=")
                attrs[key] = unescape(take("id"))
                if peek() in (",", ";"):
                    take()
            take("]")
        return attrs

    def body(stack: list) -> None:
        take("{")
        while peek() != "}":
            kind = peek()
            if kind == "kw":
                word = take().lower()
                if word == "subgraph":
                    cluster = name(take("id"))
                    dot.clusters[cluster] = {"attrs": {}, "clusters": list(stack)}
                    body(stack + [cluster])
                else:
                    attrs = attr_lists()
                    if word == "graph":
                        (dot.clusters[stack[-1]]["attrs"] if stack else dot.graph).update(attrs)
            else:
                first = name(take("id"))
                if peek() == "=":
                    take("=")
                    value = unescape(take("id"))
                    (dot.clusters[stack[-1]]["attrs"] if stack else dot.graph)[first] = value
                elif peek() == "->":
                    ends = [first]
                    while peek() == "->":
                        take("->")
                        ends.append(name(take("id")))
                    attrs = attr_lists()
                    dot.edges += [(tail, head, attrs) for tail, head in zip(ends, ends[1:])]
                else:
                    dot.nodes[first] = {"attrs": attr_lists(), "clusters": list(stack)}
                    dot.statements.append(first)
            if peek() == ";":
                take(";")
        take("}")

    assert take("kw").lower() == "digraph"
    if peek() == "id":
        take("id")
    body([])
    assert at == len(toks), f"text after the graph: {toks[at:at + 3]}"
    return dot


@pytest.fixture(scope="module")
def lab():
    return load_inventory(LAB)


@pytest.fixture(scope="module")
def lab_text(lab) -> str:
    return fleet_dot(lab)


@pytest.fixture(scope="module")
def lab_dot(lab_text) -> Dot:
    return read(lab_text)


# -- the lab's picture ---------------------------------------------------------------------------

def test_lab_diagram_draws_every_host_once_with_its_address_and_roles(lab, lab_dot):
    for host in lab.hosts.values():
        label = lab_dot.nodes[host.name]["attrs"]["label"].splitlines()
        assert label[:2] == [host.name, host.address]
        for role in host.roles:
            assert role in "\n".join(label[2:])
    assert sorted(name for name in lab_dot.statements if name in lab.hosts) == sorted(lab.hosts)  # each once


def test_lab_diagram_shows_every_mesh_member_with_its_mesh_address(lab, lab_dot):
    from fleetfab.roles.wireguard.mesh import members

    everyone = members(lab)
    assert {m.name for m in everyone} == {h.name for h in lab.hosts.values() if "mesh" in h.groups}
    hub = "mesh 100.64.0.0/24"
    assert "100.64.0.0/24" in lab_dot.nodes[hub]["attrs"]["label"]
    for m in everyone:
        assert lab_dot.edge(hub, m.name)["dir"] == "none"
        assert f"mesh {m.address}" in lab_dot.nodes[m.name]["attrs"]["label"]
    assert "100.64.0.10" in lab_dot.nodes["cp1"]["attrs"]["label"]  # the one fixed address


def test_lab_diagram_marks_a_mesh_member_behind_nat(lab_dot):
    assert "(behind NAT)" in lab_dot.nodes["worker2"]["attrs"]["label"]
    assert lab_dot.edge("mesh 100.64.0.0/24", "worker2")["style"] == "dashed"


def test_lab_diagram_has_the_primary_to_secondary_edge_labelled_with_its_zones(lab_dot):
    label = lab_dot.edge("ns1", "ns2")["label"].splitlines()
    assert {"lab.test", "example.com", "0.18.198.in-addr.arpa", "0.64.100.in-addr.arpa"} <= set(label)
    assert not [e for e in lab_dot.edges if e[:2] == ("ns2", "ns1")]
    assert "bind9 (primary)" in lab_dot.nodes["ns1"]["attrs"]["label"]
    assert "bind9 (secondary)" in lab_dot.nodes["ns2"]["attrs"]["label"]


def test_lab_diagram_has_the_edge_sites_backend_edge(lab_dot):
    assert lab_dot.edge("edge1", "worker1")["label"] == "www :8080"


def test_lab_diagram_nests_group_clusters_as_the_groups_nest(lab_dot):
    clusters = lab_dot.clusters
    for group in ("nodes", "k8s", "k8s_control", "k8s_workers", "dns", "dns_primary", "dns_secondary",
                  "mail", "edge", "vmhosts"):
        assert clusters[f"cluster_group_{group}"]["attrs"]["label"] == group
    assert clusters["cluster_group_k8s_workers"]["clusters"] == ["cluster_group_nodes", "cluster_group_mesh", "cluster_group_k8s"]
    assert lab_dot.nodes["worker1"]["clusters"] == ["cluster_group_nodes", "cluster_group_mesh", "cluster_group_k8s",
                                                    "cluster_group_k8s_workers"]
    assert lab_dot.nodes["ns2"]["clusters"][-1] == "cluster_group_dns_secondary"


def test_host_in_several_groups_is_drawn_in_its_deepest_group_and_names_the_others(lab_dot):
    # mail1 is in mail (under nodes and mesh) and acme_clients (a top-level group): mail is deeper
    assert lab_dot.nodes["mail1"]["clusters"] == ["cluster_group_nodes", "cluster_group_mesh", "cluster_group_mail"]
    assert "also in: acme_clients" in lab_dot.nodes["mail1"]["attrs"]["label"]
    assert "cluster_group_acme_clients" not in lab_dot.clusters


def test_equally_deep_groups_place_a_host_in_the_one_written_first(load):
    dot = read(fleet_dot(load("""
        groups:
          zeta: {}
          alpha: {}
        hosts:
          h1: {address: 192.0.2.1, groups: [alpha, zeta]}
    """)))
    assert dot.nodes["h1"]["clusters"] == ["cluster_group_zeta"]
    assert "also in: alpha" in dot.nodes["h1"]["attrs"]["label"]


def test_mail_edge_and_dns_hosts_have_shapes_of_their_own(lab_dot):
    shape = {name: lab_dot.nodes[name]["attrs"]["shape"] for name in ("mail1", "edge1", "ns1", "cp1")}
    assert len(set(shape.values())) == 4
    assert lab_dot.nodes["mail1"]["attrs"]["color"] != lab_dot.nodes["edge1"]["attrs"]["color"]


def test_a_guest_off_the_mesh_is_not_drawn_inside_the_mesh_group(lab, lab_dot):
    assert "mesh" not in lab.hosts["guest1"].groups
    assert "cluster_group_mesh" not in lab_dot.nodes["guest1"]["clusters"]
    assert lab_dot.nodes["guest1"]["clusters"][-1] == "cluster_group_guests"


def test_a_guest_drawn_in_its_own_group_names_no_group_its_boxes_show(lab_dot):
    assert "also in" not in lab_dot.nodes["guest1"]["attrs"]["label"]


def test_a_guest_drawn_apart_has_an_arrow_from_its_vm_host(lab_dot):
    assert lab_dot.edge("vmhost1", "guest1")["label"] == "VM guest"


def test_guest_is_drawn_inside_its_vm_host(lab):
    # a guest in every group around its VM host's box
    groups = tuple(dict.fromkeys(lab.hosts["cp1"].groups + ("vmhosts",)))
    guest = dataclasses.replace(lab.hosts["cp1"], vm={"host": "vmhost1"}, groups=groups)
    inventory = dataclasses.replace(lab, hosts={**lab.hosts, "cp1": guest})
    dot = read(fleet_dot(inventory))
    vm_cluster = "cluster_vm_vmhost1"
    assert dot.nodes["cp1"]["clusters"][-1] == vm_cluster
    assert dot.nodes["vmhost1"]["clusters"][-1] == vm_cluster
    assert dot.clusters[vm_cluster]["clusters"][-1] == "cluster_group_vmhosts"
    assert "cluster_group_k8s_control" not in dot.clusters  # no host of its own left


# -- drift colours ---------------------------------------------------------------------------------

def test_drift_report_colours_clean_drifted_and_failed_hosts(lab):
    dot = read(fleet_dot(lab, REPORT))
    fill = {name: dot.nodes[name]["attrs"]["fillcolor"] for name in ("cp1", "ns1", "mail1")}
    assert fill == {"cp1": DRIFT_COLOURS["clean"], "ns1": DRIFT_COLOURS["drift"], "mail1": DRIFT_COLOURS["failed"]}
    assert "drift: 2 change(s)" in dot.nodes["ns1"]["attrs"]["label"]
    assert (DRIFT_COLOURS["clean"], DRIFT_COLOURS["drift"], DRIFT_COLOURS["failed"]) == ("palegreen", "yellow", "tomato")


def test_host_absent_from_the_drift_report_is_grey(lab):
    dot = read(fleet_dot(lab, REPORT))
    assert dot.nodes["worker1"]["attrs"]["fillcolor"] == DRIFT_COLOURS["absent"] == "lightgrey"
    assert "not in the drift report" in dot.nodes["worker1"]["attrs"]["label"]


def test_an_unknown_status_in_the_report_counts_as_failed(lab):
    dot = read(fleet_dot(lab, {"hosts": {"cp1": {"status": "locked"}}}))
    assert dot.nodes["cp1"]["attrs"]["fillcolor"] == DRIFT_COLOURS["failed"]


def test_without_a_report_hosts_are_not_drift_coloured(lab_dot):
    assert {n["attrs"]["fillcolor"] for name, n in lab_dot.nodes.items() if not name.startswith(("mesh ", "legend "))} \
        == {"white"}


def test_a_file_that_is_not_a_report_is_refused(tmp_path):
    path = tmp_path / "drift.json"
    path.write_text('{"command": "drift"}')
    with pytest.raises(ValueError, match="no 'hosts' mapping"):
        diagram.load_report(path)


# -- the text itself ---------------------------------------------------------------------------------

ODD = 'a "b"\\c\nd <e> \\l'

IPV6 = """
    groups:
      dns:
        roles: [bind9]
        vars:
          bind9: {server: primary, zones: {example.com: {}}}
      mesh:
        roles: [wireguard]
        vars:
          wireguard: {network: "fd00:64::/64"}
    hosts:
      ns1: {address: 192.0.2.3, groups: [dns]}
      app1: {address: 192.0.2.2, groups: [mesh]}
      edge1:
        address: 192.0.2.1
        groups: [mesh]
        roles: [certificates, edge]
        vars:
          certificates:
            certificates: {www: {names: [www.example.com]}}
          edge:
            sites:
              www: {certificate: www, backends: ["[2001:db8::5]:8080", "app1:8080", "192.0.2.9:80"]}
              api: {certificate: www, backends: ["[2001:db8::5]:8080"]}
"""


def test_the_source_is_written_by_the_graphviz_package(lab):
    import graphviz

    graph = diagram.fleet_graph(lab, REPORT)
    assert isinstance(graph, graphviz.Digraph)
    assert graph.source == fleet_dot(lab, REPORT)


def test_labels_keep_quotes_backslashes_newlines_and_angle_brackets_literal(lab):
    dot = read(fleet_dot(lab, {"finished": ODD, "hosts": {"cp1": {"status": ODD}}}, title=ODD))
    assert dot.graph["label"] == ODD + "\ncoloured by the drift report of " + ODD
    assert dot.nodes["cp1"]["attrs"]["label"].endswith("status " + repr(ODD))
    # a quoted string, not an HTML label (which read() refuses)
    assert read(fleet_dot(lab, title="<b>x</b>")).graph["label"] == "<b>x</b>"


def test_ipv6_mesh_and_backends_outside_the_inventory_are_whole_nodes(load):
    # graphviz's edge() reads NAME:PORT, so the names of these nodes carry no colon; their labels do
    dot = read(fleet_dot(load(IPV6)))
    [hub] = [n for n, v in dot.nodes.items() if v["attrs"]["label"] == "WireGuard mesh\nfd00:64::/64"]
    assert ":" not in hub
    assert dot.edge(hub, "app1")["dir"] == dot.edge(hub, "edge1")["dir"] == "none"
    outside = {v["attrs"]["label"]: n for n, v in dot.nodes.items() if n.startswith("backend ")}
    assert set(outside) == {"[2001:db8::5]:8080", "192.0.2.9:80"}
    assert dot.edge("edge1", outside["[2001:db8::5]:8080"])["label"] == "api, www"
    assert dot.edge("edge1", outside["192.0.2.9:80"])["label"] == "www"
    assert dot.edge("edge1", "app1")["label"] == "www :8080"
    assert len(set(dot.nodes)) == len(dot.statements)


def test_dot_braces_and_quotes_balance(lab):
    text = fleet_dot(lab, REPORT)
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "{}":
            depth += 1 if char == "{" else -1
            assert depth >= 0
    assert depth == 0 and not in_string


@pytest.mark.skipif(shutil.which("dot") is None,
                    reason="test_dot_accepts_the_source: Graphviz's dot is not installed (apt-get install graphviz)")
def test_dot_accepts_the_source(lab, load):
    for inventory, report, title in ((lab, REPORT, None), (lab, {"finished": ODD, "hosts": {}}, ODD),
                                     (load(IPV6), None, None)):
        text = fleet_dot(inventory, report, title)
        svg = subprocess.run(["dot", "-Tsvg"], input=text.encode(), capture_output=True, timeout=60)
        assert svg.returncode == 0 and not svg.stderr, svg.stderr.decode()
        assert b"<svg" in svg.stdout
        # dot's own reading has exactly the nodes and edges the source says (no NAME:PORT misread)
        plain = subprocess.run(["dot", "-Tplain"], input=text.encode(), capture_output=True, timeout=60, check=True)
        lines = plain.stdout.decode().splitlines()
        dot = read(text)
        assert sum(line.startswith("node ") for line in lines) == len(dot.nodes)
        assert sum(line.startswith("edge ") for line in lines) == len(dot.edges)
    assert b"mail1" in subprocess.run(["dot", "-Tsvg"], input=fleet_dot(lab).encode(), capture_output=True).stdout


# -- writing it ------------------------------------------------------------------------------------------

def test_a_dot_output_gets_the_dot_source(tmp_path):
    written = write_diagram("digraph fleet {\n}\n", tmp_path / "fleet.dot")
    assert written.format is None and written.fallback is None
    assert (tmp_path / "fleet.dot").read_text() == "digraph fleet {\n}\n"


def test_a_picture_asked_for_without_dot_writes_the_dot_source_beside_it(tmp_path, monkeypatch):
    monkeypatch.setattr(diagram.shutil, "which", lambda name: None)
    written = write_diagram("digraph fleet {\n}\n", tmp_path / "fleet.svg")
    assert written.path == tmp_path / "fleet.dot" and "not installed" in written.fallback
    assert not (tmp_path / "fleet.svg").exists()


def test_a_picture_is_drawn_with_dot_when_it_is_installed(tmp_path, lab):
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed")
    written = write_diagram(fleet_dot(lab), tmp_path / "fleet.svg")
    assert written.format == "svg"
    assert "<svg" in (tmp_path / "fleet.svg").read_text()


def test_fab_has_a_diagram_task():
    from fabfile import ns

    assert "diagram" in ns.task_names
