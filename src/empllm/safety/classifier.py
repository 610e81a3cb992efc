"""A small learned crisis classifier beside the rules: character n-gram TF-IDF and logistic
regression per language. Character n-grams catch the many ways people hint at risk that no list of
rules anticipates.

It is built ahead of time from the development messages in safety/data/dev by
`python -m empllm.safety.build_classifier` and ships as safety/model/ngram.LANG.json.gz (n-grams,
idf, weights, threshold, the data hash and the command). Serving only reads that file, in plain
Python: the first request never trains anything, and scikit-learn is not imported."""

from __future__ import annotations

import fnmatch
import gzip
import hashlib
import json
import math
from collections import Counter
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path

from empllm.errors import EmpLLMError
from empllm.jsonl_store import read_jsonl

DEV_DIR = Path(str(files("empllm.safety").joinpath("data/dev")))
MODEL_DIR = Path(str(files("empllm.safety").joinpath("model")))
NGRAM_RANGE = (2, 5)


def labelled_messages(folder: Path, language: str, exclude: tuple[str, ...] = ()) -> list[dict]:
    """Every message of a labelled set (crisis*.LANG.jsonl and benign*.LANG.jsonl in `folder`), less
    the files `exclude` names (dev_files)."""
    return [row for path in dev_files(language, folder, exclude) for row in read_jsonl(path)]


def dev_files(language: str, folder: Path = DEV_DIR, exclude: tuple[str, ...] = ()) -> list[Path]:
    """The development files of one language, less those whose name matches a glob of `exclude`
    (what a model was built without, so that it can be measured on them)."""
    return [path for path in sorted(folder.glob(f"*.{language}.jsonl"))
            if not any(fnmatch.fnmatch(path.name, pattern) for pattern in exclude)]  # fmt: skip


def dev_data_hash(language: str, folder: Path = DEV_DIR, exclude: tuple[str, ...] = ()) -> str:
    """sha256 over the development files of one language (names and bytes): what an artefact was built from."""
    digest = hashlib.sha256()
    for path in dev_files(language, folder, exclude):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def char_ngrams(text: str) -> list[str]:
    """Character n-grams inside word boundaries, each word padded with one space, as scikit-learn's
    `char_wb` analyzer makes them, so the weights trained there apply here unchanged."""
    grams = []
    for word in text.lower().split():
        padded = f" {word} "
        for n in range(NGRAM_RANGE[0], NGRAM_RANGE[1] + 1):
            grams += [padded[i : i + n] for i in range(len(padded) - n + 1)]
    return grams


@dataclass
class LanguageModel:
    weights: dict[str, tuple[float, float]]  # n-gram -> (idf, logistic weight)
    intercept: float
    threshold: float
    meta: dict
    veto: float = 0.0  # below this probability a rule's hit is set aside (0: never)

    def probability(self, normalised_text: str) -> float:
        """For a text as `normalise` gives it (the detector normalises once for rules and model):
        sublinear tf times idf, L2-normalised, then the logistic model."""
        tfidf = [
            ((1 + math.log(count)) * self.weights[gram][0], self.weights[gram][1])
            for gram, count in Counter(char_ngrams(normalised_text)).items()
            if gram in self.weights
        ]
        norm = math.sqrt(sum(value * value for value, _ in tfidf)) or 1.0
        score = self.intercept + sum(value * weight for value, weight in tfidf) / norm
        return 1 / (1 + math.exp(-score))


def artefact_path(language: str, folder: Path = MODEL_DIR) -> Path:
    return folder / f"ngram.{language}.json.gz"


def model_from_payload(data: dict) -> LanguageModel:
    """The classifier from an artefact's JSON (n-grams, idf, coef, intercept, threshold, meta)."""
    weights = dict(zip(data["ngrams"], zip(data["idf"], data["coef"], strict=True), strict=True))
    return LanguageModel(weights, float(data["intercept"]), float(data["threshold"]), data["meta"],
                         float(data.get("veto", 0.0)))  # fmt: skip


def load_artefact(path: Path) -> LanguageModel:
    try:
        return model_from_payload(json.loads(gzip.decompress(path.read_bytes())))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise EmpLLMError(f"crisis classifier {path} is unreadable ({exc}); rebuild it with "
                          "python -m empllm.safety.build_classifier") from None  # fmt: skip


@cache
def language_model(language: str) -> LanguageModel | None:
    """The shipped classifier for a language, or None where none was built (rules only)."""
    path = artefact_path(language)
    return load_artefact(path) if path.is_file() else None
