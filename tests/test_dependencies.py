"""Every third-party package the code imports is declared in pyproject.toml (a core dependency or an
extra), so a fresh install never rests on what another package happens to pull in."""

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def imported_top_level_modules(folder: Path) -> set[str]:
    found = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found - set(sys.stdlib_module_names) - {"empllm"}


def declared_distributions() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    specs = project["dependencies"] + [s for extra in project["optional-dependencies"].values() for s in extra]
    names = {re.match(r"[A-Za-z0-9_.\-]+", spec).group(0) for spec in specs}
    return {re.sub(r"[-_.]+", "-", name).lower() for name in names}


def test_every_imported_package_is_declared():
    owners = packages_distributions()
    declared = declared_distributions()
    missing = {}
    for module in sorted(imported_top_level_modules(ROOT / "src" / "empllm")):
        distributions = {re.sub(r"[-_.]+", "-", d).lower() for d in owners.get(module, [module])}
        if not distributions & declared:
            missing[module] = sorted(distributions)
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"
