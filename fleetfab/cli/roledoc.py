"""Every role's settings, documented from the schema the inventory is checked with."""

from __future__ import annotations

from fleetfab.schema import Field, ListOf, MapOf, Record

MISSING = object()


def kind_name(kind) -> str:
    if isinstance(kind, Record):
        return "mapping"
    if isinstance(kind, ListOf):
        return f"list of {kind_name(kind.item)}"
    if isinstance(kind, MapOf):
        return f"mapping to {kind_name(kind.value)}"
    return kind.describe


def rows(record: Record, defaults: dict, prefix: str = "") -> list[tuple[str, str, str, str]]:
    """(setting, kind, default, meaning) for each field, nested records flattened."""
    found = []
    for name, field in record.fields.items():
        path = f"{prefix}{name}"
        default = defaults.get(name, MISSING) if isinstance(defaults, dict) else MISSING
        found.append((path, kind_name(field.kind), _default(field, default), field.doc))
        if isinstance(field.kind, Record):
            found += rows(field.kind, default if isinstance(default, dict) else {}, f"{path}.")
        elif isinstance(field.kind, (ListOf, MapOf)) and isinstance(_inner(field.kind), Record):
            found += rows(_inner(field.kind), {}, f"{path}{'[]' if isinstance(field.kind, ListOf) else '.<name>'}.")
    return found


def _inner(kind):
    return kind.item if isinstance(kind, ListOf) else kind.value


def _default(field: Field, default) -> str:
    if field.required:
        return "required"
    if default is MISSING or isinstance(default, dict):
        return ""
    return repr(default)


def markdown(role, origin: str | None = None) -> str:
    """The role's settings as a table; `origin` says where the role was found (fleetfab.registry)."""
    lines = [f"### Role `{role.name}`", ""]
    if origin:
        lines += [f"Found: {origin}", ""]
    lines += ["| setting | kind | default | meaning |", "|---|---|---|---|"]
    for path, kind, default, doc in rows(role.settings, role.defaults):
        lines.append(f"| `{path}` | {kind} | {default} | {doc} |")
    return "\n".join(lines)
