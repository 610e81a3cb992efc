"""Build the crisis reader (safety/reader.py) from the development messages:

    python -m empllm.safety.build_reader [--layers 4] [--epochs 3] [--out-dir DIR]

One model for both languages: the first `layers` layers of the embedded Gemma 3 270M with LoRA on
every projection, and a linear head on the mean-pooled states, trained with balanced binary
cross-entropy. A stratified 15% of the development messages (per language and label) is held back
to choose each language's threshold: the lowest whose false-alarm rate there is at most 5%. No
held-out test set is ever read. Writes safety/model/reader/ (adapter, head, reader.json with the
data hash, command, seed and versions). About 4 minutes an epoch on 2 cores."""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from empllm.safety.build_classifier import lowest_threshold
from empllm.safety.classifier import DEV_DIR, dev_data_hash, labelled_messages
from empllm.safety.normalise import normalise
from empllm.safety.reader import MAX_TOKENS, READER_DIR, gemma_checkpoint, mean_pooled, truncated_gemma

LANGUAGES = ("en", "zh")
COMMAND = "python -m empllm.safety.build_reader"
LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
CALIBRATION_SHARE = 0.15
BASE_MODEL_NAME = "embedded gemma-3-270m (first layers; empllm.safety.reader)"


def split(rows: list[dict], seed: int) -> tuple[list[dict], list[dict]]:
    """Training and calibration messages, stratified by language and label."""
    rng = random.Random(seed)
    train, calibration = [], []
    for lang in LANGUAGES:
        for label in ("crisis", "none"):
            group = [r for r in rows if r["language"] == lang and r["label"] == label]
            rng.shuffle(group)
            cut = round(len(group) * CALIBRATION_SHARE)
            calibration += group[:cut]
            train += group[cut:]
    return train, calibration


def development_rows(exclude: tuple[str, ...] = ()) -> list[dict]:
    return [{"text": normalise(r["text"]), "label": r["label"], "language": lang}
            for lang in LANGUAGES for r in labelled_messages(DEV_DIR, lang, exclude)]  # fmt: skip


def score(tokenizer, body, head, texts: list[str], batch: int = 32) -> list[float]:
    import torch

    out = []
    with torch.inference_mode():
        for i in range(0, len(texts), batch):
            enc = tokenizer(texts[i : i + batch], return_tensors="pt", padding=True, truncation=True,
                            max_length=MAX_TOKENS)  # fmt: skip
            out += torch.sigmoid(head(mean_pooled(body, enc))).squeeze(-1).tolist()
    return out


def train(rows, layers: int, epochs: int, seed: int, rank: int, batch: int, lr: float):
    import torch
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(seed)
    tokenizer, body = truncated_gemma(gemma_checkpoint(), layers)
    for p in body.parameters():
        p.requires_grad = False
    body = get_peft_model(body, LoraConfig(r=rank, lora_alpha=2 * rank, lora_dropout=0.05,
                                           target_modules=LORA_TARGETS))  # fmt: skip
    head = torch.nn.Linear(body.config.hidden_size, 1)
    trainable = [p for p in body.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW([{"params": trainable, "lr": lr}, {"params": head.parameters(), "lr": lr * 5}],
                                  weight_decay=0.01)  # fmt: skip
    steps = epochs * -(-len(rows) // batch)
    warmup = 0.05 * steps
    schedule = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda s: min(1.0, (s + 1) / warmup) * (1 - s / steps))
    positives = sum(r["label"] == "crisis" for r in rows)
    pos_weight = torch.tensor((len(rows) - positives) / positives)
    rng = random.Random(seed)
    started, step = time.time(), 0
    body.train()
    for epoch in range(epochs):
        order = rows[:]
        rng.shuffle(order)
        for i in range(0, len(order), batch):
            chunk = order[i : i + batch]
            enc = tokenizer([r["text"] for r in chunk], return_tensors="pt", padding=True, truncation=True,
                            max_length=MAX_TOKENS)  # fmt: skip
            target = torch.tensor([float(r["label"] == "crisis") for r in chunk])
            logits = head(mean_pooled(body, enc)).squeeze(-1)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, target, pos_weight=pos_weight)
            loss.backward()
            optimiser.step()
            schedule.step()
            optimiser.zero_grad()
            step += 1
            if step % 25 == 0 or step == steps:
                print(f"epoch {epoch + 1}/{epochs} step {step}/{steps} loss {loss.item():.3f} "
                      f"{time.time() - started:.0f} s", file=sys.stderr, flush=True)  # fmt: skip
    body.eval()
    return tokenizer, body, head


def build(out_dir: Path, layers: int, epochs: int, seed: int, rank: int, batch: int, lr: float,
          exclude: tuple[str, ...] = ()) -> Path:  # fmt: skip
    import numpy as np
    import peft
    import torch
    import transformers
    from safetensors.torch import save_file

    rows = development_rows(exclude)
    train_rows, calibration = split(rows, seed)
    tokenizer, body, head = train(train_rows, layers, epochs, seed, rank, batch, lr)
    thresholds = {}
    for lang in LANGUAGES:
        benign = [r["text"] for r in calibration if r["language"] == lang and r["label"] == "none"]
        thresholds[lang] = lowest_threshold(np.array(score(tokenizer, body, head, benign)), stop=0.99, fallback=0.99)
    partial = out_dir.with_name(out_dir.name + ".partial")
    partial.mkdir(parents=True, exist_ok=True)
    body.save_pretrained(str(partial))
    (partial / "README.md").unlink(missing_ok=True)  # peft's empty model card
    # peft records the base checkpoint's local path (this machine's cache); name the base instead
    adapter_config = json.loads((partial / "adapter_config.json").read_text(encoding="utf-8"))
    adapter_config["base_model_name_or_path"] = BASE_MODEL_NAME
    (partial / "adapter_config.json").write_text(json.dumps(adapter_config, indent=2) + "\n", encoding="utf-8")
    save_file({k: v.contiguous() for k, v in head.state_dict().items()}, str(partial / "head.safetensors"))
    meta = {"kind": "Gemma 3 270M, first layers, LoRA + linear head on mean-pooled states",
            "layers": layers, "epochs": epochs, "seed": seed, "lora_rank": rank, "batch": batch, "lr": lr,
            "thresholds": thresholds, "calibration_share": CALIBRATION_SHARE,
            "train_messages": len(train_rows), "calibration_messages": len(calibration),
            "dev_data_sha256": {lang: dev_data_hash(lang, DEV_DIR, exclude) for lang in LANGUAGES},
            "excluded_dev_files": list(exclude),
            "base_model": "embedded gemma-3-270m (Q4_K_M GGUF, dequantized to float32)",
            "command": COMMAND + f" --layers {layers} --epochs {epochs} --seed {seed}"
                       + "".join(f" --exclude '{pattern}'" for pattern in exclude),
            "built": datetime.now(UTC).isoformat(timespec="seconds"),
            "versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                         "peft": peft.__version__}}  # fmt: skip
    (partial / "reader.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    if out_dir.exists():
        import shutil

        shutil.rmtree(out_dir)
    partial.replace(out_dir)
    return out_dir


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rank", type=int, default=16)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--out-dir", type=Path, default=READER_DIR)
    parser.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="GLOB",
        help="leave out development files whose name matches (to measure the reader on them)",
    )
    args = parser.parse_args(argv)
    path = build(args.out_dir, args.layers, args.epochs, args.seed, args.rank, args.batch, args.lr,
                 tuple(args.exclude))  # fmt: skip
    print(f"reader: {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
