"""The engine finds roles; it does not import them, and no role imports its way back into a circle.

The check reads every module of fleetfab/ and roles/ (installed as
fleetfab.roles) with `ast`, imports inside functions included: an import done
later is still an import, and a lazy one only hides a circle until it bites.
Only `if TYPE_CHECKING:` imports are left out: they never run.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: the checkout's folders and the package names they install as
PACKAGES = {"fleetfab": ROOT / "fleetfab", "fleetfab.roles": ROOT / "roles"}


def module_files() -> dict[str, Path]:
    found = {}
    for package, folder in PACKAGES.items():
        for path in folder.rglob("*.py"):
            parts = list(path.relative_to(folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join([package, *parts])] = path
    return found


def runtime_nodes(tree: ast.AST):
    """Every node but those under `if TYPE_CHECKING:` (names for annotations, never imported when run)."""
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            todo.extend(node.orelse)
            continue
        todo.extend(ast.iter_child_nodes(node))


def imported(name: str, path: Path, known: set[str]) -> set[str]:
    """The fleetfab modules `name` imports (a `from package import module` names the module)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets = set()
    for node in runtime_nodes(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            targets.add(base)
            targets |= {f"{base}.{alias.name}" for alias in node.names}
    return {t for t in targets if t in known and t != name}


def import_graph() -> dict[str, set[str]]:
    files = module_files()
    return {name: imported(name, path, set(files)) for name, path in files.items()}


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in graph.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def is_role(name: str) -> bool:
    return name == "fleetfab.roles" or name.startswith("fleetfab.roles.")


def circles_through_roles(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    """(engine module, role module) for each import of a role by the engine that the role's own imports lead back
    to: the edge that closes an engine-role circle, the one to remove."""
    return sorted((name, role) for name, targets in graph.items() if not is_role(name)
                  for role in targets if is_role(role) and name in reachable(graph, role))


def test_the_graph_sees_the_imports_it_checks():
    graph = import_graph()
    assert "fleetfab.role" in graph["fleetfab.roles.base"]
    assert "fleetfab.inventory.loader" in graph["fleetfab.inventory"]


def test_a_circle_through_a_role_would_be_found():
    graph = {"fleetfab.registry": {"fleetfab.roles"}, "fleetfab.roles": {"fleetfab.roles.bind9"},
             "fleetfab.roles.bind9": {"fleetfab.registry"}}
    assert circles_through_roles(graph) == [("fleetfab.registry", "fleetfab.roles")]


def test_no_engine_module_imports_a_role_that_imports_it_back():
    assert circles_through_roles(import_graph()) == []


def test_the_roles_package_imports_no_role():
    assert import_graph()["fleetfab.roles"] == set()


def test_the_registry_and_the_loader_import_no_role():
    graph = import_graph()
    assert not [m for m in reachable(graph, "fleetfab.inventory.loader") if is_role(m)]
