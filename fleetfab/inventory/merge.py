"""Deep merge of settings that keeps each key's source line."""

from __future__ import annotations

from fleetfab.inventory.yamlmarks import MarkedDict, line_of


def merge(base: dict, over: dict) -> MarkedDict:
    """`over` wins key by key; nested mappings merge, anything else is replaced."""
    result = MarkedDict(line=getattr(over, "line", 0) or getattr(base, "line", 0))
    for source in (base, over):
        for key, value in source.items():
            current = result.get(key)
            if isinstance(current, dict) and isinstance(value, dict):
                value = merge(current, value)
            result[key] = value
            result.key_lines[key] = line_of(source, key, result.line)
    return result


def merge_all(layers: list[dict]) -> MarkedDict:
    result = MarkedDict()
    for layer in layers:
        result = merge(result, layer or {})
    return result
