"""Does a detector that reads meaning beat the shipped n-gram classifier? A probe on Gemma 3 270M.

The embedded Gemma 3 270M (dequantized to float32, run in torch) reads each message; the hidden
states after the first k layers are mean-pooled, and a logistic head per language and per k is
trained on the development messages (src/empllm/safety/data/dev), with the lowest threshold whose
out-of-fold false-alarm rate on them is at most 5%, as the shipped classifier chooses its own. It is
then scored on a labelled set three ways, beside the shipped detector and the rules alone:
- the head alone;
- rules, then the head (what the rules miss);
- rules, then the mean of the head's and the n-gram classifier's probabilities, at the head's threshold.
It also times the k-layer forward pass per message (p50, one message at a time, as a server sees them).

    python benchmarks/safety_gemma_probe.py --set heldout6 [--layers 4,6,9] [--out FILE]

Embedding a set takes about 0.1 s a message on 2 cores (the development set, 3,300 messages, about
6 minutes); features are cached under .empllm-cache/safety_probe/ by the messages' hash.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))
from safety_detection import NEWEST_SET, SET_CHOICES, is_means_question, load  # noqa: E402

from empllm.safety.build_classifier import lowest_threshold  # noqa: E402
from empllm.safety.classifier import language_model  # noqa: E402
from empllm.safety.detector import assess_by_rules, assess_text  # noqa: E402
from empllm.safety.normalise import normalise  # noqa: E402

CACHE = ROOT / ".empllm-cache" / "safety_probe"
C = 0.01  # strong regularisation: 640 features, about 1,700 development messages per language


class GemmaLayers:
    """Mean-pooled hidden states after the first k layers of the embedded Gemma, in torch."""

    def __init__(self):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from empllm.backends.embedded import embedded_gguf_path
        from empllm.backends.hf import dequantized_checkpoint
        from empllm.settings import Settings

        cache_dir = Settings().cache_dir
        checkpoint = dequantized_checkpoint(embedded_gguf_path(cache_dir), cache_dir)
        self.torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(str(checkpoint))
        self.model = AutoModelForCausalLM.from_pretrained(str(checkpoint)).eval().model

    def __call__(self, text: str, layers: list[int]) -> dict[int, np.ndarray]:
        """Runs only the first max(layers) layers; each layer's output is taken by a forward hook
        (transformers' own output_hidden_states records only the layers present at its first call)."""
        ids = self.tokenizer(normalise(text), return_tensors="pt")
        outputs: dict[int, object] = {}
        full = self.model.layers
        hooks = [layer.register_forward_hook(lambda _m, _i, out, k=k: outputs.__setitem__(k, out))
                 for k, layer in enumerate(full[: max(layers)], start=1)]  # fmt: skip
        self.model.layers = full[: max(layers)]
        try:
            with self.torch.no_grad():
                self.model(**ids)
        finally:
            self.model.layers = full
            for hook in hooks:
                hook.remove()
        return {k: (outputs[k][0] if isinstance(outputs[k], tuple) else outputs[k])[0].mean(0).numpy() for k in layers}


def features(gemma: GemmaLayers, name: str, lang: str, rows: list[dict], layers: list[int]) -> dict[int, np.ndarray]:
    key = hashlib.sha256(json.dumps([r["text"] for r in rows], ensure_ascii=False).encode()).hexdigest()[:12]
    path = CACHE / f"{name}.{lang}.{key}.npz"
    cached = dict(np.load(path)) if path.is_file() else {}
    missing = [k for k in layers if f"l{k}" not in cached]
    if missing:
        started = time.time()
        vectors = [gemma(r["text"], missing) for r in rows]
        cached.update({f"l{k}": np.stack([v[k] for v in vectors]) for k in missing})
        CACHE.mkdir(parents=True, exist_ok=True)
        np.savez(path, **cached)
        print(f"embedded {name} {lang}: {len(rows)} messages in {time.time() - started:.0f} s", file=sys.stderr)
    return {k: cached[f"l{k}"] for k in layers}


def head_and_threshold(x: np.ndarray, y: np.ndarray):
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    def fit(a, b):
        head = LogisticRegression(C=C, class_weight="balanced", max_iter=3000)
        return make_pipeline(StandardScaler(), head).fit(a, b)

    out_of_fold = np.zeros(len(y))
    for train, test in StratifiedKFold(5, shuffle=True, random_state=0).split(x, y):
        out_of_fold[test] = fit(x[train], y[train]).predict_proba(x[test])[:, 1]
    return fit(x, y), lowest_threshold(out_of_fold[~y], stop=0.99, fallback=0.99)


def figures(fired: np.ndarray, rows: list[dict]) -> dict:
    kind = np.array([r.get("explicitness") for r in rows])
    crisis = np.array([r["label"] == "crisis" for r in rows])
    means = np.array([is_means_question(r) for r in rows])
    out = {"recall_explicit": fired[crisis & (kind == "explicit")].mean(),
           "recall_indirect": fired[crisis & (kind == "indirect")].mean(),
           "false_positive_rate": fired[~crisis].mean()}  # fmt: skip
    out = {k: round(float(v), 3) for k, v in out.items()}
    if means.any():
        out["means_questions_caught"] = f"{int(fired[means].sum())}/{int(means.sum())}"
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", choices=SET_CHOICES, default=NEWEST_SET)
    parser.add_argument("--layers", default="4,6,9", help="k: the first k of Gemma's 18 layers, comma-separated")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    layers = sorted({int(k) for k in args.layers.split(",")})
    gemma = GemmaLayers()
    date = datetime.now(UTC).isoformat(timespec="seconds")
    result = {"benchmark": "safety_gemma_probe", "set": args.set, "date": date, "layers": layers, "languages": {}}
    for lang in ("en", "zh"):
        dev, rows = load("dev", lang), load(args.set, lang)
        y_dev = np.array([r["label"] == "crisis" for r in dev])
        dev_x, x = features(gemma, "dev", lang, dev, layers), features(gemma, args.set, lang, rows, layers)
        rules = np.array([assess_by_rules(r["text"], lang).crisis for r in rows])
        ngram = language_model(lang)
        ngram_p = np.array([ngram.probability(normalise(r["text"])) for r in rows])
        shipped = np.array([assess_text(r["text"], lang).crisis for r in rows])
        table = {"rules alone": figures(rules, rows), "shipped (rules, then n-gram)": figures(shipped, rows)}
        for k in layers:
            head, threshold = head_and_threshold(dev_x[k], y_dev)
            p = head.predict_proba(x[k])[:, 1]
            table[f"gemma {k} layers: head alone (threshold {threshold})"] = figures(p >= threshold, rows)
            table[f"gemma {k} layers: rules, then head"] = figures(rules | (p >= threshold), rows)
            mean_fired = rules | ((p + ngram_p) / 2 >= threshold)
            table[f"gemma {k} layers: rules, then mean(head, n-gram)"] = figures(mean_fired, rows)
        result["languages"][lang] = table
    timings = {}
    sample = [r["text"] for r in load(args.set, "en")[:40] + load(args.set, "zh")[:40]]
    for k in layers:
        gemma(sample[0], [k])  # warm
        times = []
        for text in sample:
            started = time.perf_counter()
            gemma(text, [k])
            times.append(time.perf_counter() - started)
        timings[f"{k} layers"] = round(statistics.median(times) * 1000, 1)
    result["forward_ms_p50"] = timings
    print(json.dumps(result, indent=2, ensure_ascii=False))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
