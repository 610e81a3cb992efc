"""`empllm bench audit`: checks that EmpTest's items can be trusted.

Per item file: the schema and canary, unique ids, no near-duplicate items, gold answers spread
evenly over positions, and artifact baselines (always pick the longest option, the option with most
word overlap with the scenario, the most positive-sounding option) within 10 points of chance.
The evaluation personas must be disjoint from the simulation library.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from datasketch import MinHashLSH

from empllm.bench.items import ARTIFACTS, artifact_baselines
from empllm.bench.registry import include_path, task_of_file
from empllm.errors import EmpLLMError
from empllm.minhash import NUM_PERM, text_minhash

ARTIFACT_TOLERANCE = 10.0  # points from chance
EVAL_PERSONAS_PER_LANGUAGE = 20
NEAR_DUPLICATE = 0.7  # MinHash Jaccard estimate over character 5-grams


@dataclass
class Check:
    target: str
    check: str
    ok: bool
    detail: str = ""


def _text(item) -> str:
    for attr in ("scenario", "dialogue", "message"):
        if hasattr(item, attr):
            return getattr(item, attr)
    return ""


def near_duplicates(texts: dict[str, str], threshold: float = NEAR_DUPLICATE) -> list[tuple[str, str]]:
    lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
    pairs = []
    for key, text in texts.items():
        mh = text_minhash(text)
        pairs += [(other, key) for other in lsh.query(mh)]
        lsh.insert(key, mh)
    return pairs


def gold_balance(items) -> tuple[bool, str]:
    """Each position holds the gold about as often as a uniform draw would put it there."""
    width = max(len(it.options) for it in items)
    counts = [sum(1 for it in items if it.gold == pos) for pos in range(width)]
    expected = [sum(1 / len(it.options) for it in items if pos < len(it.options)) for pos in range(width)]
    off = [pos for pos in range(width) if abs(counts[pos] - expected[pos]) > max(2.0, 0.25 * expected[pos])]
    detail = ", ".join(f"{chr(65 + p)}:{counts[p]}/{expected[p]:.1f}" for p in range(width))
    return not off, detail


def audit_file(path: Path) -> tuple[list[Check], list]:
    name = path.name
    try:
        spec = task_of_file(path)
        items = spec.load_file(path)
    except EmpLLMError as exc:
        return [Check(name, "schema", False, str(exc))], []
    checks = [Check(name, "schema", True, f"{len(items)} items, canary present")]
    dupes = near_duplicates({it.id: _text(it) for it in items})
    checks.append(Check(name, "near_duplicates", not dupes, ", ".join(f"{a}~{b}" for a, b in dupes[:5]) or "none"))
    if spec.kind != "mc":
        return checks, items
    ok, detail = gold_balance(items)
    checks.append(Check(name, "gold_balance", ok, detail))
    base = artifact_baselines(items)
    for key in ARTIFACTS:
        gap = base[key] - base["chance"]
        checks.append(Check(name, f"artifact_{key}", abs(gap) <= ARTIFACT_TOLERANCE,
                            f"{base[key]:.1f}% vs chance {base['chance']:.1f}%"))  # fmt: skip
    return checks, items


def audit_personas() -> list[Check]:
    from empllm.bench.session_task import eval_personas
    from empllm.personas.loader import builtin_personas

    try:
        evals = list(eval_personas())
    except EmpLLMError as exc:
        return [Check("eval personas", "schema", False, str(exc))]
    library = builtin_personas()
    per_language = {lang: sum(1 for p in evals if p.language == lang) for lang in ("en", "zh")}
    enough = all(n >= EVAL_PERSONAS_PER_LANGUAGE for n in per_language.values())
    checks = [Check("eval personas", "schema_and_count", enough, f"{per_language} (at least "
                    f"{EVAL_PERSONAS_PER_LANGUAGE} per language)")]  # fmt: skip
    shared_ids = {p.id for p in evals} & {p.id for p in library}
    shared_names = {p.name for p in evals} & {p.name for p in library}
    checks.append(Check("eval personas", "disjoint_ids_and_names", not shared_ids and not shared_names,
                        ", ".join(sorted(shared_ids | shared_names)) or "none shared"))  # fmt: skip
    texts = {f"lib:{p.id}": p.situation for p in library} | {f"eval:{p.id}": p.situation for p in evals}
    crossing = [(a, b) for a, b in near_duplicates(texts) if a.split(":")[0] != b.split(":")[0]]
    checks.append(Check("eval personas", "no_near_duplicate_of_library", not crossing,
                        ", ".join(f"{a}~{b}" for a, b in crossing[:5]) or "none"))  # fmt: skip
    return checks


def audit(items_dir: Path, *, personas: bool = True) -> list[Check]:
    if any(items_dir.glob("*.yaml")):
        include_path(items_dir)  # a folder of declared tasks: audit them as `bench --include-path` runs them
    files = sorted(items_dir.glob("*.jsonl"))
    if not files:
        raise EmpLLMError(f"no item files (*.jsonl) in {items_dir}")
    checks: list[Check] = []
    owners: dict[str, str] = {}
    repeated = []
    for path in files:
        file_checks, items = audit_file(path)
        checks += file_checks
        for it in items:
            if it.id in owners:
                repeated.append(f"{it.id} ({owners[it.id]}, {path.name})")
            owners[it.id] = path.name
    checks.append(Check("all files", "unique_ids", not repeated, ", ".join(repeated[:5]) or f"{len(owners)} ids"))
    if personas:
        checks += audit_personas()
    return checks
