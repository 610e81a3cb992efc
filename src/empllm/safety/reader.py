"""A crisis reader that reads meaning: the first layers of the embedded Gemma 3 270M, tuned with LoRA,
and a linear head on their mean-pooled states, one model for both languages.

It is built ahead of time by `python -m empllm.safety.build_reader` from the development messages
and ships as safety/model/reader/ (the LoRA weights and the head, a few MB, with the data hash, the
command and the threshold per language). The base weights are the embedded model's own, dequantized
once (backends.hf.dequantized_checkpoint), so nothing is downloaded and nothing is trained in the
request path. It needs torch and transformers, which the set-up installs."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path

from empllm.errors import EmpLLMError

READER_DIR = Path(str(files("empllm.safety").joinpath("model/reader")))
MAX_TOKENS = 96  # longer messages are cut; a disclosure is rarely past the first hundred tokens


@dataclass(frozen=True)
class Combination:
    """How the detector reads the reader beside the n-gram classifier in one language: a weighted mean
    of the two probabilities, one threshold (alarm on what the rules missed), a lower one for a
    question about means the rules missed, and one veto (below it a rule's hit is set aside)."""

    weight: float  # the reader's share
    threshold: float
    veto: float
    means_threshold: float  # the alarm on a question about means the rules missed (detector.RuleSet.means_question)

    def score(self, ngram_probability: float, reader_probability: float) -> float:
        return self.weight * reader_probability + (1 - self.weight) * ngram_probability


# Per language; a language not listed reads the n-gram classifier alone. Chosen out of fold on
# held-out 13 to 18 (1,200 messages a language, development data since): each set scored by an
# n-gram trained without it and by the reader, which was built without all six; as much caught as
# the false-alarm limit allows: 4% in English, 3% in Chinese, whose false alarms on the last blind
# set (18) came out above their validation figure (0.07 against 0.04) while English stayed under
# (benchmarks/safety_combination.py --folds heldout13,...,heldout18 --max-false-alarms 0.04 / 0.03;
# docs/benchmarks/safety_combination_folds13_18_fa04.json and ..._fa03.json). There, English 0.997 /
# 0.97 / 0.04, 137/138 questions about means (the n-gram alone 0.973 / 0.964 / 0.048, 136/138);
# Chinese 0.997 / 0.959 / 0.03, 137/138 (0.994 / 0.959 / 0.033, 135/138). Not blind: the rules were
# widened on 13-17's misses, and dev19 was written after 18's. Held-out 19 is the blind test.
COMBINATIONS: dict[str, Combination] = {
    "en": Combination(weight=0.4, threshold=0.55, veto=0.3, means_threshold=0.45),
    "zh": Combination(weight=0.3, threshold=0.6, veto=0.3, means_threshold=0.35),
}


def gemma_checkpoint() -> Path:
    """The embedded Gemma 3 270M as a float32 safetensors checkpoint, made once and cached."""
    from empllm.backends.embedded import embedded_gguf_path
    from empllm.backends.hf import dequantized_checkpoint
    from empllm.settings import Settings

    cache_dir = Settings().cache_dir
    return dequantized_checkpoint(embedded_gguf_path(cache_dir), cache_dir)


def truncated_gemma(checkpoint: Path, layers: int):
    """The tokenizer and Gemma's text body cut after its first `layers` layers (no final norm, no LM
    head: the 262k-word output layer is most of the model's cost and a classifier needs none of it)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(checkpoint))
    body = AutoModelForCausalLM.from_pretrained(str(checkpoint), dtype=torch.float32).model
    body.layers = body.layers[:layers]
    body.config.num_hidden_layers = layers
    body.config.layer_types = body.config.layer_types[:layers]
    body.norm = torch.nn.Identity()
    return tokenizer, body


def mean_pooled(body, encoded):
    """The mean of the last kept layer's states over the real (unpadded) tokens."""
    states = body(input_ids=encoded["input_ids"], attention_mask=encoded["attention_mask"]).last_hidden_state
    mask = encoded["attention_mask"].unsqueeze(-1).to(states.dtype)
    return (states * mask).sum(1) / mask.sum(1)


class CrisisReader:
    """Scores a normalised message: the probability that it discloses a crisis."""

    def __init__(self, folder: Path = READER_DIR, checkpoint: Path | None = None):
        import torch
        from peft import PeftModel
        from safetensors.torch import load_file

        meta_path = folder / "reader.json"
        try:
            self.meta = json.loads(meta_path.read_text(encoding="utf-8"))
            head = load_file(str(folder / "head.safetensors"))
        except (OSError, ValueError) as exc:
            raise EmpLLMError(f"crisis reader {folder} is unreadable ({exc}); rebuild it with "
                              "python -m empllm.safety.build_reader") from None  # fmt: skip
        self.torch = torch
        self.tokenizer, body = truncated_gemma(checkpoint or gemma_checkpoint(), int(self.meta["layers"]))
        self.body = PeftModel.from_pretrained(body, str(folder)).merge_and_unload().eval()
        self.head = torch.nn.Linear(head["weight"].shape[1], 1)
        self.head.load_state_dict(head)
        self.thresholds: dict[str, float] = {k: float(v) for k, v in self.meta["thresholds"].items()}
        self._lock = threading.Lock()  # one forward pass at a time: torch already uses every core

    def probability(self, normalised_text: str) -> float:
        encoded = self.tokenizer(normalised_text, return_tensors="pt", truncation=True, max_length=MAX_TOKENS)
        with self._lock, self.torch.inference_mode():
            logit = self.head(mean_pooled(self.body, encoded))
        return float(self.torch.sigmoid(logit)[0, 0])

    def reads(self, language: str) -> bool:
        return language in COMBINATIONS

    def threshold(self, language: str) -> float:
        return self.thresholds.get(language, max(self.thresholds.values()))


@cache
def crisis_reader() -> CrisisReader | None:
    """The shipped reader, or None where none was built or where EMPLLM_SAFETY_READER=false (the
    n-gram classifier then serves alone)."""
    from empllm.settings import Settings

    if not Settings().safety_reader or not (READER_DIR / "reader.json").is_file():
        return None
    try:
        return CrisisReader()
    except ImportError as exc:
        raise EmpLLMError(f"the crisis reader needs torch, transformers and peft ({exc}); install them with the "
                          "README's set-up, or set EMPLLM_SAFETY_READER=false") from None  # fmt: skip
