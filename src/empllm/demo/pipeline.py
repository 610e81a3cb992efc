"""The demo's stages, in order, each recorded in DIR/stages.json (see stages.py):

    simulate.en/zh -> curate.en/zh -> data (merge, export twice) -> train.think/drop
    -> bench.base/think/drop (EmpTest and example replies) -> results.json + report.html

Folder layout under DIR: simulate/LANG, curate/LANG, data/{sessions.jsonl,think,drop},
train/{think,drop}, bench/{base,think,drop}, results.json, report.html.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from empllm.backends.embedded import is_embedded
from empllm.backends.registry import kind_of, parse_spec
from empllm.bench.contamination import find_in_files
from empllm.bench.progress import BenchProgress
from empllm.bench.run import BenchConfig, run_bench
from empllm.curate.pipeline import CurateConfig, run_curation
from empllm.demo.config import MODES, DemoConfig
from empllm.demo.examples import example_replies
from empllm.demo.report import write_results
from empllm.demo.results import build_results
from empllm.demo.seed_sessions import is_seed, seed_sessions
from empllm.demo.stages import StageLog
from empllm.errors import EmpLLMError
from empllm.export import export_dataset, split_by_persona
from empllm.jsonl_store import read_jsonl, write_text_atomic
from empllm.provenance import check_run_file
from empllm.runtime import build_runtime
from empllm.session_view import load_sessions
from empllm.settings import Settings
from empllm.simulate.progress import SimulationProgress
from empllm.simulate.runner import SimulationConfig, run_simulation
from empllm.train.sft import TrainConfig, train

VALIDATION = 0.1  # share of personas held out of training (for the eval loss)


def model_specs(config: DemoConfig, out_dir: Path) -> dict[str, str]:
    """The three models EmpTest measures. A base that is a GGUF (the embedded model, or
    hf:/path/model.gguf) is scored through llama.cpp, the tuned models with their LoRA adapters
    converted for it: the same weights as training, several times faster than transformers."""
    base = parse_spec(config.base)
    gguf = base.kind == "hf" and (is_embedded(base.target) or base.target.endswith(".gguf"))
    scored = f"llamacpp:{base.target}" if config.bench_backend == "llamacpp" and gguf else config.base
    return {"base": scored, **{m: f"{scored}+{out_dir / 'train' / m}" for m in MODES}}


def check_contamination(files: list[Path]) -> None:
    """Stop when an EmpTest item (its canary, or 13 words or Chinese characters in a row) is in a
    training file: a model trained on its test items would measure nothing."""
    found = find_in_files(files)
    if found:
        first = found[0]
        raise EmpLLMError(f"EmpTest item {first.item} appears in training data at {first.where} "
                          f"({first.overlap!r}; {len(found)} line(s) in all); remove it before training")  # fmt: skip


async def _simulate(config: DemoConfig, lang: str, out: Path, settings: Settings, quiet: bool) -> dict:
    sim = SimulationConfig(personas="built-in", sessions=config.sessions_per_language, client_model=config.model,
                           psychologist_model=config.model, language=lang, seed=config.seed,
                           min_turns=min(3, config.max_turns), max_turns=config.max_turns,
                           exemplars=config.exemplars)  # fmt: skip
    # one in-process model answers one call at a time: sessions in order lose least to an interruption
    concurrency = 1 if kind_of(config.model).serial else 16
    with SimulationProgress(enabled=not quiet) as progress:
        summary = await run_simulation(sim, out, settings=settings, concurrency=concurrency,
                                       on_session=progress.update)  # fmt: skip
    rows = read_jsonl(summary.out_file)
    return {"sessions": len(rows), "outcomes": dict(Counter(r["outcome"] for r in rows)),
            "completion_tokens": summary.completion_tokens}  # fmt: skip


async def _curate(src: Path, out: Path) -> dict:
    summary = await run_curation(src, out, CurateConfig())  # counts earlier decisions too, when resumed
    return {"sessions": summary.total, "kept": summary.kept, "dropped_by": dict(summary.dropped_by),
            "codes": dict(summary.codes)}  # fmt: skip


def _training_data(config: DemoConfig, out_dir: Path) -> dict:
    data = out_dir / "data"
    data.mkdir(parents=True, exist_ok=True)
    sessions = [s for lang in config.languages for s in load_sessions(out_dir / "curate" / lang / "sessions.jsonl")]
    if config.seed_data:
        sessions += seed_sessions()
    if not sessions:
        raise EmpLLMError("no simulated session survived curation, so there is nothing to train on; "
                          "simulate more (--sessions N) or add the hand-written sessions (--seed-data on)")  # fmt: skip
    merged = data / "sessions.jsonl"
    write_text_atomic(merged, "".join(s.model_dump_json() + "\n" for s in sessions))
    for mode in MODES:
        export_dataset(merged, data / mode, fmt="openai", mode=mode, validation=VALIDATION, seed=config.seed)
    check_contamination(sorted(data.glob("*/*.jsonl")))
    counts = {}
    for split, members in split_by_persona(sessions, VALIDATION, config.seed).items():
        counts[split] = {"simulated": sum(not is_seed(s.id) for s in members),
                         "seed": sum(is_seed(s.id) for s in members)}  # fmt: skip
    return {"sessions": len(sessions), "splits": counts, "seed_data": config.seed_data}


def _train(config: DemoConfig, mode: str, out_dir: Path, settings: Settings, quiet: bool) -> dict:
    tc = TrainConfig(base=config.base, contemplation=mode, max_steps=config.train_steps,
                     batch_size=config.batch_size, max_length=config.max_length, seed=config.seed,
                     save_steps=max(1, config.train_steps // 2))  # fmt: skip
    summary = train(out_dir / "data" / mode, out_dir / "train" / mode, tc, settings=settings, quiet=quiet)
    keep = ("steps", "loss_curve", "final_train_loss", "eval_loss", "tokens_seen", "train_wall_s", "tokens_per_s",
            "examples", "device", "adapter_spec", "config_hash")  # fmt: skip
    return {k: summary[k] for k in keep}


async def _bench(config: DemoConfig, spec: str, out: Path, settings: Settings, quiet: bool) -> dict:
    """EmpTest, then the example replies, on one loaded model."""
    bc = BenchConfig(model=spec, tasks=config.bench_tasks, judge=config.judge, language=config.bench_language,
                     limit=config.bench_limit or None, calibrate=config.calibrate, seed=config.seed)  # fmt: skip
    runtime = build_runtime(spec, settings)
    try:
        with BenchProgress(enabled=not quiet) as progress:
            results = await run_bench(bc, out, settings=settings, progress=progress, runtimes={spec: runtime})
        examples = await example_replies(runtime, config.examples_per_language, config.example_max_tokens,
                                         config.seed, config.languages)  # fmt: skip
    finally:
        await runtime.aclose()
    return {"model": spec, "tasks": len(results["tasks"]), "skipped": results["skipped"], "examples": examples}


async def run_demo(config: DemoConfig, out_dir: Path, *, settings: Settings, quiet: bool = False) -> dict:
    out_dir = out_dir.resolve()
    check_run_file(out_dir, config.model_dump(), config.hash(), {"job": "empllm demo"})
    log = StageLog(out_dir, quiet=quiet)
    for lang in config.languages:
        await log.run(f"simulate.{lang}", f"simulating {config.sessions_per_language} {lang} sessions with "
                      f"{config.model}", lambda lang=lang: _simulate(config, lang, out_dir / "simulate" / lang,
                                                                      settings, quiet))  # fmt: skip
    for lang in config.languages:
        await log.run(f"curate.{lang}", f"curating the {lang} sessions",
                      lambda lang=lang: _curate(out_dir / "simulate" / lang, out_dir / "curate" / lang))  # fmt: skip

    await log.run("data", "merging and exporting the training data (contemplation as <think>, and dropped)",
                  lambda: _training_data(config, out_dir))  # fmt: skip
    for mode in MODES:
        await log.run(f"train.{mode}", f"fine-tuning {config.base} with LoRA, contemplation {mode}",
                      lambda mode=mode: _train(config, mode, out_dir, settings, quiet))  # fmt: skip
    specs = model_specs(config, out_dir)
    for name, spec in specs.items():
        await log.run(
            f"bench.{name}",
            f"EmpTest ({', '.join(config.bench_tasks)}) and example replies on {name}",
            lambda name=name, spec=spec: _bench(config, spec, out_dir / "bench" / name, settings, quiet),
        )

    results = build_results(config, out_dir, log.stages, specs)
    write_results(out_dir, results)
    return results
