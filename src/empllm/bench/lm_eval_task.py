"""EmpTest's sub-tasks as lm-evaluation-harness tasks: this file becomes `utils.py` of the folder
`empllm bench export lm-eval DIR` writes (bench/lm_eval_export.py), with the block marked
`empllm-inline` replaced by the source of the functions it imports. The folder then runs where
EmpLLM is not installed (`lm_eval --include_path DIR --tasks emptest`), and both harnesses decide
and score with one copy of the code.

Multiple choice: each option is scored after the item's cloze prompt (as `empllm bench` does with
log-likelihoods), and again after the bare answer cue, EmpTest's prior for `acc_mi`. lm-eval's own
`acc_mutual_info` scores the prior after an empty context instead, so it is not used here.
Intensity: every emotion's 0-10 rating is the expected value under the model's distribution over
the 11 ratings, and the item is scored with the EQ-Bench v2 formula (10 x the item score, 0-100).
"""

from __future__ import annotations

import json
from pathlib import Path

import datasets
from lm_eval.api.instance import Instance
from lm_eval.api.task import ConfigurableTask

# BEGIN empllm-inline
from empllm.bench.intensity import expected_rating, item_score
from empllm.bench.mc import decide

# END empllm-inline

DATA_DIR = Path(__file__).resolve().parent / "data"


def load_docs(data_file: str, **_metadata) -> dict[str, datasets.Dataset]:
    """The items of one sub-task and language, from the folder next to this file (a path relative
    to the YAML would resolve against the working directory)."""
    with open(DATA_DIR / data_file, encoding="utf-8") as lines:
        rows = [json.loads(line) for line in lines if line.strip()]
    return {"test": datasets.Dataset.from_list(rows)}


def _loglikelihood_requests(doc: dict, pairs: list[tuple[str, str]], first_idx: int, kwargs: dict) -> list[Instance]:
    kwargs = {k: v for k, v in kwargs.items() if k not in ("apply_chat_template", "chat_template")}
    return [Instance(request_type="loglikelihood", doc=doc, arguments=pair, idx=first_idx + i, **kwargs)
            for i, pair in enumerate(pairs)]  # fmt: skip


class _EmpTestTask(ConfigurableTask):
    def __init__(self, config: dict | None = None, **kwargs) -> None:
        # lm-eval hands a `class:` task its whole YAML, `class` included, which TaskConfig refuses
        super().__init__(config={k: v for k, v in (config or {}).items() if k != "class"}, **kwargs)


class EmpTestMultipleChoice(_EmpTestTask):
    """The options after the prompt, then after the bare cue (the prior)."""

    def construct_requests(self, doc: dict, ctx, **kwargs) -> list[Instance]:
        conditional = super().construct_requests(doc, ctx, **kwargs)
        delimiter = self.config.target_delimiter
        priors = [(doc["prior_context"], f"{delimiter}{option}") for option in doc["options"]]
        return conditional + _loglikelihood_requests(doc, priors, len(conditional), kwargs)

    def process_results(self, doc: dict, results) -> dict[str, float]:
        lls = [float(r[0]) for r in results]
        n = len(doc["options"])
        decision = decide(doc["options"], doc["gold"], lls[:n], lls[n:])
        # lm-eval's acc_norm divides by characters, EmpTest's by UTF-8 bytes: both are reported
        per_char = [ll / max(1, len(option)) for ll, option in zip(lls[:n], doc["options"], strict=True)]
        pred_chars = max(range(n), key=lambda i: (per_char[i], -i))
        return {"acc": decision["acc"], "acc_norm": decision["acc_norm"], "acc_mi": decision["acc_mi"],
                "acc_norm_chars": float(pred_chars == doc["gold"])}  # fmt: skip


class EmpTestIntensity(_EmpTestTask):
    """Each emotion's rating distribution after its own context; the EQ-Bench v2 score per item."""

    def construct_requests(self, doc: dict, ctx, **kwargs) -> list[Instance]:
        pairs = [(context, rating) for context in doc["rating_contexts"] for rating in doc["ratings"]]
        return _loglikelihood_requests(doc, pairs, 0, kwargs)

    def process_results(self, doc: dict, results) -> dict[str, float]:
        lls = [float(r[0]) for r in results]
        k = len(doc["ratings"])
        ratings = [expected_rating(lls[i * k : (i + 1) * k]) for i in range(len(doc["emotions"]))]
        return {"score": 10 * item_score(ratings, doc["reference"])}
