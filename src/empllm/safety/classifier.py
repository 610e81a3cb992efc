"""A small learned crisis classifier beside the rules: character n-gram TF-IDF and logistic
regression per language, trained at first use (a few seconds) on the development messages that
ship in safety/data/dev. Character n-grams catch the many ways people hint at risk that no list of
rules anticipates; the decision threshold is the lowest one whose out-of-fold false-positive rate
on the development set is at most 5%, so the held-out set is never used to choose it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path

from empllm.safety.normalise import normalise

MAX_DEV_FALSE_POSITIVES = 0.05


@dataclass
class LanguageModel:
    vectorizer: object
    model: object
    threshold: float

    def probability(self, normalised_text: str) -> float:
        """For a text as `normalise` gives it (the detector normalises once for rules and model)."""
        return float(self.model.predict_proba(self.vectorizer.transform([normalised_text.lower()]))[0, 1])


DEV_DIR = Path(str(files("empllm.safety").joinpath("data/dev")))


def labelled_messages(folder: Path, language: str) -> list[dict]:
    """Every message of a labelled set (crisis*.LANG.jsonl and benign*.LANG.jsonl in `folder`)."""
    rows = []
    for path in sorted(folder.glob(f"*.{language}.jsonl")):
        rows += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return rows


def _fit(texts, labels):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)
    model = LogisticRegression(C=4, class_weight="balanced", max_iter=2000)
    model.fit(vectorizer.fit_transform(texts), labels)
    return vectorizer, model


@cache
def language_model(language: str) -> LanguageModel | None:
    import numpy as np
    from sklearn.model_selection import StratifiedKFold

    rows = labelled_messages(DEV_DIR, language)
    if not rows:
        return None
    texts = np.array([normalise(r["text"]).lower() for r in rows])
    labels = np.array([r["label"] == "crisis" for r in rows])
    out_of_fold = np.zeros(len(rows))
    for train, test in StratifiedKFold(5, shuffle=True, random_state=0).split(texts, labels):
        vectorizer, model = _fit(texts[train], labels[train])
        out_of_fold[test] = model.predict_proba(vectorizer.transform(texts[test]))[:, 1]
    candidates = [
        t for t in np.arange(0.30, 0.96, 0.01) if (out_of_fold[~labels] >= t).mean() <= MAX_DEV_FALSE_POSITIVES
    ]
    vectorizer, model = _fit(texts, labels)
    return LanguageModel(vectorizer, model, float(min(candidates)) if candidates else 0.95)
