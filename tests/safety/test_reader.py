"""The Gemma crisis reader (safety/reader.py): a built artefact that matches the development data it
claims, run only where it can change a verdict, off when asked, and rebuilt by a script that trains."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from empllm.safety import reader as reader_module
from empllm.safety.classifier import DEV_DIR, dev_data_hash, language_model
from empllm.safety.detector import _learned_verdict, _rules_verdict, assess_text, default_rules
from empllm.safety.normalise import normalise
from empllm.safety.reader import COMBINATIONS, READER_DIR

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from safety_detection import load  # noqa: E402


def test_the_shipped_reader_was_built_from_the_shipped_development_data():
    # a development file edited without rebuilding fails here: run python -m empllm.safety.build_reader
    meta = json.loads((READER_DIR / "reader.json").read_text(encoding="utf-8"))
    excluded = tuple(meta.get("excluded_dev_files", []))  # files it was built without, to be measured on
    assert meta["dev_data_sha256"] == {lang: dev_data_hash(lang, DEV_DIR, excluded) for lang in ("en", "zh")}, (
        "stale reader: rebuild it"
    )
    assert all(f"--exclude '{pattern}'" in meta["command"] for pattern in excluded)
    assert meta["command"].startswith("python -m empllm.safety.build_reader")
    assert 0 < meta["thresholds"]["en"] < 1 and meta["layers"] >= 1


def test_the_reader_can_be_built_without_some_development_files():
    # so that it can be measured on them (safety_combination.py --folds): they are left out, nothing else
    from empllm.safety.build_reader import development_rows

    everything, without = development_rows(), development_rows(("*-dev18.*",))
    dev18 = sum(len(load("dev18", lang)) for lang in ("en", "zh"))
    assert dev18 > 0 and len(everything) - len(without) == dev18
    assert dev_data_hash("en", DEV_DIR, ("*-dev18.*",)) != dev_data_hash("en")


def test_the_reader_can_be_turned_off(monkeypatch):
    monkeypatch.setenv("EMPLLM_SAFETY_READER", "false")
    reader_module.crisis_reader.cache_clear()
    try:
        assert reader_module.crisis_reader() is None
    finally:
        reader_module.crisis_reader.cache_clear()


@pytest.mark.integration
def test_the_reader_runs_only_where_it_can_change_the_verdict(reader_on, monkeypatch):
    """Skipping the reader where the n-gram probability alone settles the verdict must give the verdict
    that reading would have given, message by message."""
    calls = []
    probability = reader_on.probability
    monkeypatch.setattr(reader_on, "probability", lambda text: calls.append(text) or probability(text))
    rows = load("heldout13", "en")
    ngram, ruleset = language_model("en"), default_rules()
    for row in rows:
        text = normalise(row["text"])
        verdict, fired = _rules_verdict(text, "en", ruleset)
        if verdict.crisis and any(rule.never_veto for rule in fired):
            expected = verdict.crisis
        else:
            mix = COMBINATIONS["en"]
            score = mix.score(ngram.probability(text), probability(text))
            means = mix.means_threshold if ruleset.means_question(text) else None
            expected = _learned_verdict(verdict, fired, text, ruleset, score, mix.threshold, mix.veto, means).crisis
        assert assess_text(row["text"], "en").crisis == expected, row["text"]
    assert 0 < len(calls) < len(rows) / 2, "the reader should read only the messages it can decide"


@pytest.mark.integration
def test_a_language_without_a_combination_reads_the_ngram_classifier_alone(reader_on, monkeypatch):
    monkeypatch.setattr(reader_module, "COMBINATIONS", {"en": reader_module.COMBINATIONS["en"]})
    monkeypatch.setattr(reader_on, "probability", lambda text: pytest.fail("the reader read a Chinese message"))
    assert assess_text("要是我哪天不在了，大概也没人会注意到吧", "zh").crisis


@pytest.mark.integration
def test_build_reader_trains_and_writes_a_reader_that_loads(tmp_path, monkeypatch, embedded_gguf, model_cache_dir):
    import torch
    from safetensors.torch import load_file

    from empllm.backends.hf import dequantized_checkpoint
    from empllm.safety import build_reader
    from empllm.safety.reader import CrisisReader

    checkpoint = dequantized_checkpoint(embedded_gguf, model_cache_dir)
    monkeypatch.setattr(build_reader, "gemma_checkpoint", lambda: checkpoint)
    rows = build_reader.development_rows()
    few = [r for lang in ("en", "zh") for label in ("crisis", "none")
           for r in [x for x in rows if x["language"] == lang and x["label"] == label][:12]]  # fmt: skip
    monkeypatch.setattr(build_reader, "development_rows", lambda exclude: few)
    out = build_reader.build(tmp_path / "reader", layers=2, epochs=1, seed=0, rank=4, batch=8, lr=1e-3,
                             exclude=("*-dev18.*",))  # fmt: skip
    lora_b = [v for k, v in load_file(str(out / "adapter_model.safetensors")).items() if "lora_B" in k]
    assert lora_b and any(torch.count_nonzero(v) > 0 for v in lora_b), "LoRA B starts at zero: training moved nothing"
    meta = json.loads((out / "reader.json").read_text(encoding="utf-8"))
    assert meta["layers"] == 2 and meta["train_messages"] + meta["calibration_messages"] == len(few)
    assert meta["excluded_dev_files"] == ["*-dev18.*"] and "--exclude '*-dev18.*'" in meta["command"]
    reader = CrisisReader(out, checkpoint=checkpoint)
    assert 0.0 <= reader.probability("I can't do this anymore") <= 1.0
    assert not (out.parent / "reader.partial").exists()
