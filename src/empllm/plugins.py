"""Extensions from other packages: what they declare under an entry-point group (a name -> an
object). Built-in entries win over a plugin of the same name, so a package cannot silently replace
one."""

from __future__ import annotations

from importlib.metadata import entry_points

# group -> its entry points, read once per process: scanning the installed packages takes ~10 ms,
# and task and backend lookups happen per item
_DECLARED: dict[str, list] = {}


def plugin_entries(group: str, builtin: dict) -> dict:
    """The built-in entries, then each one a package declares under `group` that they do not name."""
    if group not in _DECLARED:
        _DECLARED[group] = list(entry_points(group=group))
    found = dict(builtin)
    for entry in _DECLARED[group]:
        if entry.name not in found:
            found[entry.name] = entry.load()
    return found
