"""`empllm bench`: run EmpTest tasks on a model (or on recorded responses), resumably.

The run folder holds run.json (what produced it), samples.jsonl (one record per item, appended
and fsynced as items finish, so an interrupted run resumes where it stopped), results.json and
report.html (both rewritten from the samples at the end of every run).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from empllm import __version__
from empllm.bench import tasks as T
from empllm.bench.judge import Judge
from empllm.bench.kinds import kind_of
from empllm.bench.records import SampleRecord
from empllm.bench.results import summarize_task
from empllm.errors import CapabilityError, EmpLLMError
from empllm.jsonl_store import JsonlAppender, read_jsonl, repair_torn_tail, write_text_atomic
from empllm.prompts import PROMPTS_VERSION
from empllm.provenance import check_run_file, stable_hash
from empllm.runtime import Runtime, build_runtime
from empllm.settings import Settings

Method = Literal["auto", "loglikelihood", "generate"]


class BenchConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str | None = None  # None with --responses
    tasks: list[str]
    language: Literal["en", "zh", "all"] = "all"
    judge: str | None = None
    client: str | None = None  # plays the client in `session`; defaults to the judge
    limit: int | None = None
    method: Method = "auto"
    mc_format: Literal["cloze", "listed"] = "cloze"
    permutations: int = 1
    calibrate: bool = True  # also acc_mi: options scored after the bare answer cue
    seed: int = 0
    data: str | None = None  # the file of an external benchmark
    responses: str | None = None  # JSONL of {"id", "response"} recorded elsewhere
    pairwise: str | None = None  # "reference" (the items' written replies) or another run's folder
    session_replies: int = 4
    include_path: str | None = None  # a folder of task declarations (bench/registry.py)


def config_hash(config: BenchConfig, units: list[T.TaskUnit]) -> str:
    sources = {u.name: T.file_hash(Path(u.source)) for u in units if Path(u.source).is_file()}
    # a run without --include-path keeps the hash (and run folder) it had before that option existed
    dumped = config.model_dump(exclude=set() if config.include_path else {"include_path"})
    return stable_hash({"config": dumped, "items": sources, "prompts": PROMPTS_VERSION})


def load_responses(path: Path) -> dict[str, str]:
    if not path.is_file():
        raise EmpLLMError(f"--responses file {path} does not exist")
    responses = {}
    for i, row in enumerate(read_jsonl(path), 1):
        if "id" not in row or not isinstance(row.get("response"), str):
            raise EmpLLMError(f"--responses file {path} record {i}: needs a string 'id' and a string 'response'")
        responses[str(row["id"])] = row["response"]
    return responses


def pairwise_references(spec: str | None) -> Callable[[object], str | None]:
    """The reply each respond_gen item is compared with: the item's own, or another run's."""
    if spec is None:
        return lambda item: None
    if spec == "reference":
        return lambda item: item.reference_reply
    samples = Path(spec) / "samples.jsonl"
    if not samples.is_file():
        raise EmpLLMError(f"--pairwise {spec}: expected 'reference' or a bench run folder with samples.jsonl")
    replies = {r["id"]: r["reply"] for r in read_jsonl(samples) if r.get("task") == "respond_gen" and r.get("reply")}
    return lambda item: replies.get(item.id)


class BenchRun:
    """One invocation: the units to run, the runtimes, and the samples already on disk."""

    def __init__(self, config: BenchConfig, out_dir: Path, settings: Settings, runtimes: dict[str, Runtime] | None):
        self.config = config
        self.out_dir = out_dir
        self.settings = settings
        self._own = runtimes is None
        self.runtimes = runtimes if runtimes is not None else {}
        self.responses = load_responses(Path(config.responses)) if config.responses else None
        if self.responses is None and not config.model:
            raise EmpLLMError("give --model SPEC, or --responses FILE to score recorded replies")
        self.units = T.load_units(config.tasks, config.language, data=Path(config.data) if config.data else None,
                                  limit=config.limit)  # fmt: skip
        self.skipped: dict[str, str] = {}
        self.method = config.method
        self.reference_for = pairwise_references(config.pairwise)
        self._judge: Judge | None = None

    def runtime(self, spec: str) -> Runtime:
        if spec not in self.runtimes:
            self.runtimes[spec] = build_runtime(spec, self.settings)
        return self.runtimes[spec]

    def judge(self) -> Judge | None:
        """One judge for the whole run (built on first use)."""
        if self._judge is None and self.config.judge:
            self._judge = Judge(self.runtime(self.config.judge))
        return self._judge

    def _usable(self, unit: T.TaskUnit) -> str | None:
        """Why a unit cannot run with this configuration (None when it can)."""
        kind = kind_of(unit.kind)
        if kind.needs_judge and not self.config.judge:
            return "needs --judge SPEC (a judged task)"
        if not kind.from_responses and self.responses is not None:
            return f"a {unit.kind} task cannot be scored from recorded responses"
        return None

    def _resolve_method(self) -> str:
        if self.responses is not None:
            return "responses"
        if self.method != "auto":
            return self.method
        return "generate" if self.runtime(self.config.model).capabilities.prompt_logprobs is False else "loglikelihood"

    def model(self) -> Runtime | None:
        """The model under test (None when recorded responses are scored)."""
        return None if self.responses is not None else self.runtime(self.config.model)

    async def score(self, unit: T.TaskUnit, index: int, item) -> dict:
        seed = self.config.seed * 100_003 + index
        response = None if self.responses is None else self.responses.get(item.id)
        return await kind_of(unit.kind).score(self, item, response, seed)

    async def closed(self, scorer) -> dict:
        """A closed-answer item (multiple choice, ratings): scorer(model, method) by log-likelihood where the
        backend can score prompts, else by generating an answer."""
        method = self._resolve_method()
        try:
            return await scorer(self.model() if method != "responses" else None, method)
        except CapabilityError:
            if self.config.method != "auto" or method != "loglikelihood":
                raise
            self.method = "generate"  # this backend cannot score prompts: answer by letter instead
            return await scorer(self.model(), "generate")

    async def aclose(self) -> None:
        if self._own:
            for rt in self.runtimes.values():
                await rt.aclose()


async def run_bench(
    config: BenchConfig,
    out_dir: Path,
    *,
    settings: Settings,
    progress=None,  # an object with start(unit, done) and advance(unit)
    runtimes: dict[str, Runtime] | None = None,
    concurrency: int = 4,
) -> dict:
    if config.permutations < 1:
        raise EmpLLMError("--permutations must be at least 1")
    if config.permutations > 1 and config.mc_format == "cloze" and config.method != "generate":
        raise EmpLLMError("--permutations needs --mc-format listed (cloze prompts never show the options)")
    run = BenchRun(config, out_dir, settings, runtimes)
    chash = config_hash(config, run.units)
    provenance = check_run_file(out_dir, config.model_dump(), chash,
                                {"item_files": {u.name: {"path": u.source, "sha256_16": T.file_hash(Path(u.source))}
                                                for u in run.units if Path(u.source).is_file()}})  # fmt: skip
    samples_path = out_dir / "samples.jsonl"
    repair_torn_tail(samples_path)
    existing = read_jsonl(samples_path) if samples_path.is_file() else []
    done = {(r["task"], r["language"], r["id"]) for r in existing}
    gate = asyncio.Semaphore(concurrency)
    start = time.perf_counter()
    timings: dict[str, float] = {}
    try:
        with JsonlAppender(samples_path) as writer:
            for unit in run.units:
                why = run._usable(unit)
                if why:
                    run.skipped[unit.name] = why
                    continue
                todo = [(i, it) for i, it in enumerate(unit.items)
                        if (unit.task, unit.language, it.id) not in done]  # fmt: skip
                if progress is not None:
                    progress.start(unit, len(unit.items) - len(todo))
                unit_start = time.perf_counter()

                async def one(index: int, item, unit=unit) -> None:
                    async with gate:
                        record = await run.score(unit, index, item)
                    sample = SampleRecord(task=unit.task, language=unit.language, id=item.id, **record)
                    writer.write(sample.to_json())
                    if progress is not None:
                        progress.advance(unit)

                await asyncio.gather(*(one(i, it) for i, it in todo))
                if todo:
                    timings[unit.name] = time.perf_counter() - unit_start
    finally:
        await run.aclose()
    samples = [SampleRecord.model_validate(row) for row in read_jsonl(samples_path)]
    results = build_results(config, run, samples, provenance, timings, time.perf_counter() - start)
    write_json(out_dir / "results.json", results)
    from empllm.bench.report import write_report

    write_report(out_dir)
    return results


def build_results(config, run: BenchRun, samples: list[SampleRecord], provenance: dict, timings: dict,
                  wall_s: float) -> dict:  # fmt: skip
    tasks: dict[str, dict] = {}
    by_unit: dict[tuple[str, str], list[SampleRecord]] = {}
    wanted = {(u.task, u.language): {it.id for it in u.items} for u in run.units}
    for s in samples:
        key = (s.task, s.language)
        if key in wanted and s.id in wanted[key]:
            by_unit.setdefault(key, []).append(s)
    for (task, lang), rows in sorted(by_unit.items()):
        row = summarize_task(task, rows, seed=config.seed, language=lang)
        if f"{task}.{lang}" in timings:
            row.wall_s = round(timings[f"{task}.{lang}"], 2)
        tasks[f"{task}.{lang}"] = row.to_json()
    for task in dict.fromkeys(t for t, _ in by_unit):  # pooled over languages
        rows = [s for (t, _), group in by_unit.items() if t == task for s in group]
        if len({lang for (t, lang) in by_unit if t == task}) > 1:
            tasks[task] = summarize_task(task, rows, seed=config.seed, language="all").to_json()
    usage = {spec: rt.usage.model_dump() for spec, rt in run.runtimes.items()}
    return {
        "emptest_version": 1,
        "model": config.model or f"responses:{config.responses}",
        "judge": config.judge,
        "config": config.model_dump(),
        "config_hash": provenance["config_hash"],
        "prompts_version": PROMPTS_VERSION,
        "empllm_version": __version__,
        "seed": config.seed,
        "item_files": provenance.get("item_files", {}),
        "tasks": tasks,
        "skipped": run.skipped,
        "usage": usage,
        "wall_s": round(wall_s, 2),
    }


def write_json(path: Path, data: dict) -> None:
    write_text_atomic(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
