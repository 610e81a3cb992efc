"""Install a tiny plugin package for a test: its module and a dist-info folder with entry_points.txt
on sys.path, which is all importlib.metadata reads. Nothing is patched, so EmpLLM finds the plugin
the way it finds a pip-installed one (also in a subprocess given the folder on PYTHONPATH)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from empllm import plugins


def install_plugin(root: Path, module: str, source: str, group: str, entries: dict[str, str], monkeypatch) -> Path:
    """Writes `module`.py and its distribution under `root`; `entries` maps entry names to
    "module:attribute". Returns the folder to put on PYTHONPATH."""
    root.mkdir(parents=True, exist_ok=True)
    (root / f"{module}.py").write_text(source, encoding="utf-8")
    info = root / f"{module}-0.1.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 0.1\n", encoding="utf-8")
    lines = "".join(f"{name} = {target}\n" for name, target in entries.items())
    (info / "entry_points.txt").write_text(f"[{group}]\n{lines}", encoding="utf-8")
    monkeypatch.syspath_prepend(str(root))
    importlib.invalidate_caches()
    monkeypatch.setattr(plugins, "_DECLARED", {})  # read the entry points again, with this package
    monkeypatch.delitem(sys.modules, module, raising=False)
    return root
