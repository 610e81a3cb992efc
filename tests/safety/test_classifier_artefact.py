"""The crisis classifier ships as a built artefact (safety/model/ngram.LANG.json.gz): it must match
the development data it claims, be read without training or scikit-learn, and score as the trained
model does."""

import gzip
import json
import subprocess
import sys

import pytest

from empllm.errors import EmpLLMError
from empllm.safety.build_classifier import build
from empllm.safety.classifier import (
    artefact_path,
    char_ngrams,
    dev_data_hash,
    labelled_messages,
    language_model,
    load_artefact,
)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_shipped_artefact_was_built_from_the_shipped_development_data(lang):
    # a development file edited without rebuilding fails here: run python -m empllm.safety.build_classifier
    meta = language_model(lang).meta
    assert meta["dev_data_sha256"] == dev_data_hash(lang), "stale artefact: rebuild it"
    assert meta["command"].startswith("python -m empllm.safety.build_classifier")


def test_the_data_hash_changes_with_any_development_message(tmp_path):
    (tmp_path / "crisis.en.jsonl").write_text('{"text": "a"}\n')
    before = dev_data_hash("en", tmp_path)
    (tmp_path / "benign.en.jsonl").write_text('{"text": "b"}\n')
    assert dev_data_hash("en", tmp_path) != before


def test_detection_neither_trains_nor_imports_scikit_learn():
    code = ("import sys; from empllm.safety.detector import assess_text; "
            "assert assess_text('every morning when I open my eyes my first thought is why did I wake up again', "
            "'en').source == 'classifier'; "
            "assert assess_text('要是我哪天不在了，大概也没人会注意到吧', 'zh').source == 'classifier'; "
            "assert 'sklearn' not in sys.modules, 'the classifier was trained in the serving process'")  # fmt: skip
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


@pytest.mark.parametrize(
    "text",
    ["I can't  sleep\tanymore", "a b cd", "no", "最近总觉得自己是大家的累赘，活着没意思", "mixed 中文 and English!!"],
)
def test_char_ngrams_are_scikit_learns_char_wb_ngrams(text):
    from sklearn.feature_extraction.text import TfidfVectorizer

    analyzer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5)).build_analyzer()
    assert char_ngrams(text) == analyzer(text)


def test_a_rebuilt_artefact_scores_as_scikit_learn_and_a_broken_one_is_a_clear_error(tmp_path, monkeypatch):
    # a tiny development set keeps the build fast; build() itself checks the reader against sklearn
    dev = tmp_path / "dev"
    dev.mkdir()
    crisis = ["i want to die", "no reason to live", "i will end it tonight", "goodbye forever everyone"] * 3
    benign = ["i want to eat", "no reason to worry", "i will call you tonight", "goodbye see you soon"] * 3
    (dev / "crisis.en.jsonl").write_text("".join(json.dumps({"text": t, "label": "crisis"}) + "\n" for t in crisis))
    (dev / "benign.en.jsonl").write_text("".join(json.dumps({"text": t, "label": "benign"}) + "\n" for t in benign))
    monkeypatch.setattr("empllm.safety.build_classifier.DEV_DIR", dev)
    monkeypatch.setattr("empllm.safety.build_classifier.dev_data_hash", lambda lang: dev_data_hash(lang, dev))
    path = build("en", tmp_path / "model")
    model = load_artefact(path)
    assert len(labelled_messages(dev, "en")) == model.meta["dev_messages"] == 24
    assert model.probability("i want to die") > 0.5 > model.probability("i want to eat")
    path.write_bytes(gzip.compress(b'{"meta": {}}'))
    with pytest.raises(EmpLLMError, match="unreadable.*rebuild"):
        load_artefact(path)
    assert artefact_path("zh", tmp_path).name == "ngram.zh.json.gz"
