"""The package is layered: helpers shared by stages sit below them, and imports only go downward.

A unit is a top-level module of empllm (errors, language, minhash, ...) or one of its subpackages
(simulate, curate, bench, ...). Imports inside functions count too: a lazy import that breaks a
cycle at run time still ties the layers together."""

import ast
import graphlib
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "empllm"
STAGES = {"simulate", "curate", "bench", "train", "serve", "demo", "safety", "personas", "export", "agent"}
# Top-level modules that run stages rather than serve them: the agent and the command line.
ABOVE_STAGES = {"agent", "chat_repl", "cli", "cli_common", "export"}


def module_imports() -> dict[str, set[str]]:
    """empllm module -> the empllm modules it imports (dotted names, package __init__ as the package)."""
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph = defaultdict(set)
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([node.module] if node.module else []))
                targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                continue
            graph[name] |= {t for t in targets if t in modules and t != name}
    return graph


def unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def unit_imports() -> dict[str, set[str]]:
    graph = defaultdict(set)
    for module, targets in module_imports().items():
        graph[unit(module)] |= {unit(t) for t in targets} - {unit(module)}
    return graph


@pytest.mark.parametrize("graph", [module_imports, unit_imports], ids=["modules", "units"])
def test_no_import_cycle(graph):
    try:
        graphlib.TopologicalSorter(graph()).prepare()
    except graphlib.CycleError as exc:
        pytest.fail(f"import cycle: {' -> '.join(exc.args[1])}")


def test_shared_helpers_import_no_stage():
    """JSON from model output, language detection, MinHash, record formats and the like serve every
    stage, so none of them may import one."""
    core = {path.stem for path in PACKAGE.glob("*.py")} - ABOVE_STAGES - {"__init__"}
    upward = {(module, target) for module, targets in module_imports().items() if unit(module) in core
              for target in targets if unit(target) in STAGES}  # fmt: skip
    assert not upward, sorted(upward)
