"""Build the crisis classifier's shipped artefacts from the development messages:

    python -m empllm.safety.build_classifier [--language en|zh] [--out-dir DIR]

Per language: TF-IDF over character n-grams and a balanced logistic regression (scikit-learn),
written as safety/model/ngram.LANG.json.gz with the data hash, the command and the versions. The
decision threshold is the lowest one whose out-of-fold false-positive rate on the development set is
at most 5%, so no held-out set is ever used to choose it. The veto threshold (below it, a rule's hit
is set aside: detector.assess_text) is the highest at which at most 1% of the development crisis
messages the rules catch would be lost, again out of fold. Before writing, every development
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
from empllm.safety.detector import vetoable_rule_hit
from empllm.safety.normalise import normalise

MAX_DEV_FALSE_POSITIVES = 0.05
MAX_VETOED_CRISIS = 0.01
LOGISTIC_C = 4
COMMAND = "python -m empllm.safety.build_classifier"


def _fit(texts, labels):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=NGRAM_RANGE, sublinear_tf=True)
    model = LogisticRegression(C=LOGISTIC_C, class_weight="balanced", max_iter=2000)
    model.fit(vectorizer.fit_transform(texts), labels)
    return vectorizer, model


def _out_of_fold(texts, labels):
    """Each development message's probability from a model that did not train on it (5 folds)."""
    import numpy as np
    from sklearn.model_selection import StratifiedKFold

    out_of_fold = np.zeros(len(texts))
    for train, test in StratifiedKFold(5, shuffle=True, random_state=0).split(texts, labels):
        vectorizer, model = _fit(texts[train], labels[train])
        out_of_fold[test] = model.predict_proba(vectorizer.transform(texts[test]))[:, 1]
    return out_of_fold


def choose_veto(out_of_fold, labels, vetoable_hits) -> float:
    """The highest of 0.05, 0.10, ... 0.50 below which at most 1% of the crisis messages the rules
    catch (with rules the classifier may veto) would be set aside, out of fold; 0 turns the veto off."""
    import numpy as np

    caught = out_of_fold[labels & vetoable_hits]
    if len(caught) == 0:
        return 0.0
    fine = [v for v in np.arange(0.05, 0.501, 0.05) if (caught < v).mean() <= MAX_VETOED_CRISIS]
    return round(float(max(fine)), 2) if fine else 0.0


def lowest_threshold(benign_scores, *, stop: float = 0.96, fallback: float = 0.95) -> float:
    """The lowest of 0.30, 0.31, ... (below `stop`) that flags at most 5% of the benign scores."""
    import numpy as np

    candidates = [t for t in np.arange(0.30, stop, 0.01) if (benign_scores >= t).mean() <= MAX_DEV_FALSE_POSITIVES]
    return round(float(min(candidates)), 2) if candidates else fallback


def train_payload(rows: list[dict], language: str) -> tuple[dict, list[str], list[float]]:
    """The artefact's JSON for labelled messages, and the texts with scikit-learn's probabilities
    (for the reader check)."""
    import numpy as np
    import sklearn

    texts = np.array([normalise(r["text"]).lower() for r in rows])
    labels = np.array([r["label"] == "crisis" for r in rows])
    out_of_fold = _out_of_fold(texts, labels)
    threshold = lowest_threshold(out_of_fold[~labels])
    veto = choose_veto(out_of_fold, labels, np.array([vetoable_rule_hit(r["text"], language) for r in rows]))
    vectorizer, model = _fit(texts, labels)
    grams = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.get)  # in column order
    meta = {"kind": "char_wb tf-idf + logistic regression", "language": language, "ngram_range": list(NGRAM_RANGE),
            "C": LOGISTIC_C, "max_dev_false_positives": MAX_DEV_FALSE_POSITIVES,
            "max_vetoed_crisis": MAX_VETOED_CRISIS, "dev_messages": len(rows),
            "built": datetime.now(UTC).isoformat(timespec="seconds"), "scikit_learn": sklearn.__version__}  # fmt: skip
    payload = {"meta": meta, "threshold": threshold, "veto": veto, "intercept": float(model.intercept_[0]),
               "ngrams": grams, "idf": [float(v) for v in vectorizer.idf_],
               "coef": [float(v) for v in model.coef_[0]]}  # fmt: skip
    return payload, list(texts), [float(p) for p in model.predict_proba(vectorizer.transform(texts))[:, 1]]


def build(language: str, out_dir: Path = MODEL_DIR) -> Path:
    rows = labelled_messages(DEV_DIR, language)
    if not rows:
        raise SystemExit(f"no development messages for {language!r} in {DEV_DIR}")
    payload, texts, expected = train_payload(rows, language)
    payload["meta"].update(dev_data_sha256=dev_data_hash(language), command=COMMAND)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = artefact_path(language, out_dir)
    partial = target.with_name(target.name + ".partial")
    partial.write_bytes(gzip.compress(json.dumps(payload, ensure_ascii=False).encode("utf-8")))
    reader = load_artefact(partial)
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
