"""Build the crisis classifier's shipped artefacts from the development messages:

    python -m empllm.safety.build_classifier [--language en|zh] [--out-dir DIR]

Per language: TF-IDF over character n-grams and a balanced logistic regression (scikit-learn),
written as safety/model/ngram.LANG.json.gz with the data hash, the command and the versions. The
decision threshold is the lowest one whose out-of-fold false-positive rate on the development set is
at most 5%, so no held-out set is ever used to choose it. Before writing, every development
message is scored again through the plain-Python reader of classifier.py, which must agree with
scikit-learn, so the artefact serves exactly the model that was trained."""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from empllm.safety.classifier import (
    DEV_DIR,
    MODEL_DIR,
    NGRAM_RANGE,
    artefact_path,
    dev_data_hash,
    labelled_messages,
    load_artefact,
)
from empllm.safety.normalise import normalise

MAX_DEV_FALSE_POSITIVES = 0.05
LOGISTIC_C = 4
COMMAND = "python -m empllm.safety.build_classifier"


def _fit(texts, labels):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=NGRAM_RANGE, sublinear_tf=True)
    model = LogisticRegression(C=LOGISTIC_C, class_weight="balanced", max_iter=2000)
    model.fit(vectorizer.fit_transform(texts), labels)
    return vectorizer, model


def _threshold(texts, labels) -> float:
    """The lowest threshold with at most 5% out-of-fold false positives on the development set."""
    import numpy as np
    from sklearn.model_selection import StratifiedKFold

    out_of_fold = np.zeros(len(texts))
    for train, test in StratifiedKFold(5, shuffle=True, random_state=0).split(texts, labels):
        vectorizer, model = _fit(texts[train], labels[train])
        out_of_fold[test] = model.predict_proba(vectorizer.transform(texts[test]))[:, 1]
    return lowest_threshold(out_of_fold[~labels])


def lowest_threshold(benign_scores, *, stop: float = 0.96, fallback: float = 0.95) -> float:
    """The lowest of 0.30, 0.31, ... (below `stop`) that flags at most 5% of the benign scores."""
    import numpy as np

    candidates = [t for t in np.arange(0.30, stop, 0.01) if (benign_scores >= t).mean() <= MAX_DEV_FALSE_POSITIVES]
    return round(float(min(candidates)), 2) if candidates else fallback


def build(language: str, out_dir: Path = MODEL_DIR) -> Path:
    import numpy as np
    import sklearn

    rows = labelled_messages(DEV_DIR, language)
    if not rows:
        raise SystemExit(f"no development messages for {language!r} in {DEV_DIR}")
    texts = np.array([normalise(r["text"]).lower() for r in rows])
    labels = np.array([r["label"] == "crisis" for r in rows])
    threshold = _threshold(texts, labels)
    vectorizer, model = _fit(texts, labels)
    grams = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.get)  # in column order
    meta = {"kind": "char_wb tf-idf + logistic regression", "language": language, "ngram_range": list(NGRAM_RANGE),
            "C": LOGISTIC_C, "max_dev_false_positives": MAX_DEV_FALSE_POSITIVES, "dev_messages": len(rows),
            "dev_data_sha256": dev_data_hash(language), "command": COMMAND,
            "built": datetime.now(UTC).isoformat(timespec="seconds"), "scikit_learn": sklearn.__version__}  # fmt: skip
    payload = {"meta": meta, "threshold": threshold, "intercept": float(model.intercept_[0]), "ngrams": grams,
               "idf": [float(v) for v in vectorizer.idf_], "coef": [float(v) for v in model.coef_[0]]}  # fmt: skip
    out_dir.mkdir(parents=True, exist_ok=True)
    target = artefact_path(language, out_dir)
    partial = target.with_name(target.name + ".partial")
    partial.write_bytes(gzip.compress(json.dumps(payload, ensure_ascii=False).encode("utf-8")))
    reader = load_artefact(partial)
    expected = model.predict_proba(vectorizer.transform(texts))[:, 1]
    worst = max(abs(reader.probability(text) - p) for text, p in zip(texts, expected, strict=True))
    if worst > 1e-6:
        partial.unlink()
        raise SystemExit(f"{language}: the plain-Python reader differs from scikit-learn by {worst:.2g}")
    partial.replace(target)
    return target


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--language", choices=["en", "zh"], action="append")
    parser.add_argument("--out-dir", type=Path, default=MODEL_DIR)
    args = parser.parse_args(argv)
    for language in args.language or ["en", "zh"]:
        path = build(language, args.out_dir)
        print(f"{language}: {path} ({path.stat().st_size / 1e6:.1f} MB)", file=sys.stderr)


if __name__ == "__main__":
    main()
