"""A guest's SSH host keys, as cloud-init prints them on its serial console."""

BEGIN = "-----BEGIN SSH HOST KEY KEYS-----"
END = "-----END SSH HOST KEY KEYS-----"


def console_keys_script(console: str) -> str:
    """The last block of keys in the console log (the last boot's), or nothing before it is printed."""
    return (f"tr -d '\\r' < '{console}' 2>/dev/null | awk '"
            f"/{BEGIN}/ {{ block = \"\"; inside = 1; next }} "
            f"/{END}/ {{ inside = 0; last = block; next }} "
            "inside { block = block $0 \"\\n\" } "
            "END { printf \"%s\", last }'\n")
