"""`empllm train DATA --base SPEC --out DIR`: LoRA (or full) SFT with TRL, loss on replies only.

CPU defaults finish a small run in minutes on 2 cores; with CUDA present, bf16 is used. The output
folder is a PEFT adapter plus the tokenizer with its chat template, usable as `hf:BASE+DIR`.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from empllm import __version__
from empllm.errors import EmpLLMError
from empllm.jsonl_store import write_text_atomic
from empllm.provenance import stable_hash
from empllm.settings import Settings
from empllm.train.chat_template import ensure_chat_template
from empllm.train.data import load_training_data


class TrainConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base: str = "hf:gemma-3-270m"
    contemplation: Literal["think", "drop"] = "think"
    full: bool = False  # full fine-tuning instead of LoRA
    qlora: bool = False  # LoRA on a 4-bit (NF4) base through bitsandbytes: CUDA only
    lora_r: int = Field(default=8, ge=1)
    lora_alpha: int = Field(default=16, ge=1)
    lora_dropout: float = Field(default=0.05, ge=0, lt=1)
    target_modules: list[str] = ["q_proj", "k_proj", "v_proj", "o_proj"]
    max_length: int = Field(default=512, ge=32)
    batch_size: int = Field(default=4, ge=1)
    grad_accum: int = Field(default=1, ge=1)
    max_steps: int = Field(default=30, ge=1)
    learning_rate: float = Field(default=2e-4, gt=0)
    warmup_steps: int = Field(default=2, ge=0)
    save_steps: int = Field(default=10, ge=1)
    seed: int = 0
    gradient_checkpointing: bool = False  # less memory for a slower step; the result is the same
    report_to: list[str] = []  # trackers for the Trainer's logs (tensorboard, wandb, ...); none by default

    def hash(self) -> str:
        """What the weights depend on: how a run saves memory or where it logs does not count, so
        such a change still resumes the same run."""
        # a setting added later counts only when used, so earlier runs keep their hash and resume
        kept = self.model_dump(
            exclude={"gradient_checkpointing", "report_to"} | ({"qlora"} if not self.qlora else set())
        )
        return stable_hash(kept)


def resolve_base(spec: str, settings: Settings) -> Path:
    """A transformers checkpoint folder for a base spec (the embedded GGUF is dequantized once)."""
    from empllm.backends.embedded import EMBEDDED_MODELS, embedded_gguf_path, is_embedded
    from empllm.backends.hf import dequantized_checkpoint
    from empllm.backends.registry import parse_spec

    parsed = parse_spec(spec)
    if parsed.adapter:
        raise EmpLLMError(f"--base {spec!r}: train on a base checkpoint, not on an adapter")
    if parsed.kind in ("hf", "llamacpp") and (is_embedded(parsed.target) or parsed.target.endswith(".gguf")):
        embedded = is_embedded(parsed.target)
        gguf = embedded_gguf_path(settings.cache_dir, parsed.target) if embedded else Path(parsed.target)
        if not gguf.is_file():
            raise EmpLLMError(f"--base {spec!r}: {gguf} does not exist")
        return dequantized_checkpoint(gguf, settings.cache_dir)
    if parsed.kind == "hf":
        from empllm.backends.hf_checkpoint import checkpoint_dir

        return checkpoint_dir(parsed.target, f"--base {spec}")  # a folder, or a hub id
    names = ", ".join(f"hf:{name}" for name in EMBEDDED_MODELS)
    raise EmpLLMError(f"--base {spec!r}: expected hf:PATH, hf:ORG/NAME (a hub id) or one of {names}")


def _qlora_config(config: TrainConfig, cuda: bool):
    """4-bit NF4 weights with bf16 compute (the QLoRA recipe); TRL prepares the model for it."""
    if config.full:
        raise EmpLLMError("--qlora trains a LoRA adapter on a 4-bit base; it cannot be combined with --full")
    if not cuda:
        raise EmpLLMError("--qlora needs a CUDA GPU (bitsandbytes 4-bit weights); on this machine train plain LoRA")
    try:
        import bitsandbytes  # noqa: F401
    except ImportError:
        raise EmpLLMError("--qlora needs bitsandbytes: pip install 'empllm[qlora]'") from None
    import torch
    from transformers import BitsAndBytesConfig

    return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                              bnb_4bit_compute_dtype=torch.bfloat16)  # fmt: skip


def _lora_targets(modules: list[str]) -> list[str] | str:
    return "all-linear" if modules == ["all-linear"] else modules  # PEFT takes the shorthand as a string


def is_main_process() -> bool:
    """Rank 0, or the only process. Under `accelerate launch` / torchrun every rank runs this code;
    only rank 0 writes the run's files (the trainer guards its own checkpoints)."""
    return int(os.environ.get("RANK", "0")) == 0


def _check_out(out: Path, config: TrainConfig, data: Path) -> bool:
    """True when OUT holds checkpoints of this same run to resume from (every rank decides alike)."""
    meta = out / "train_config.json"
    if meta.is_file():
        old = json.loads(meta.read_text())
        if old.get("config_hash") != config.hash() or old.get("data") != str(data):
            raise EmpLLMError(f"{out} holds a training run with other data or settings; use another --out")
        return any(out.glob("checkpoint-*"))
    if is_main_process():
        out.mkdir(parents=True, exist_ok=True)
        write_text_atomic(meta, json.dumps({"config_hash": config.hash(), "config": config.model_dump(),
                                            "data": str(data)}, indent=2))  # fmt: skip
    return False


def _plot_loss(losses: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot([x["step"] for x in losses], [x["loss"] for x in losses], marker="o", markersize=3)
    ax.set_xlabel("step")
    ax.set_ylabel("training loss")
    ax.set_title("EmpLLM SFT")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def train(data: Path, out: Path, config: TrainConfig, *, settings: Settings, merge: bool = False,
          quiet: bool = False) -> dict:  # fmt: skip
    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
    from trl import SFTConfig, SFTTrainer

    from empllm.train.assistant_mask import tokenize_for_assistant_loss

    cuda = torch.cuda.is_available()
    quantization = _qlora_config(config, cuda) if config.qlora else None  # refused before anything is written
    splits = load_training_data(data, config.contemplation)
    resume = _check_out(out, config, data)
    base_dir = resolve_base(config.base, settings)
    tokenizer = AutoTokenizer.from_pretrained(str(base_dir))
    ensure_chat_template(tokenizer)
    model = AutoModelForCausalLM.from_pretrained(str(base_dir), dtype=torch.bfloat16 if cuda else torch.float32,
                                                 quantization_config=quantization)  # fmt: skip

    losses: list[dict] = []

    class Record(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs and "loss" in logs:
                losses.append({"step": state.global_step, "loss": float(logs["loss"])})

    args = SFTConfig(
        output_dir=str(out), max_steps=config.max_steps, per_device_train_batch_size=config.batch_size,
        gradient_accumulation_steps=config.grad_accum, learning_rate=config.learning_rate,
        warmup_steps=config.warmup_steps, logging_steps=1, save_steps=config.save_steps, save_total_limit=2,
        # the loss mask comes with the data (train/assistant_mask.py), for any chat template
        max_length=config.max_length, assistant_only_loss=False, packing=False, seed=config.seed,
        bf16=cuda, report_to=config.report_to, include_num_input_tokens_seen=True, disable_tqdm=quiet,
        gradient_checkpointing=config.gradient_checkpointing,
        dataloader_num_workers=0, eval_strategy="no",
        # without a GPU, say so: several processes (torchrun, accelerate launch) then train together over gloo
        use_cpu=not cuda,
    )  # fmt: skip
    peft_config = None
    if not config.full:
        peft_config = LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
                                 target_modules=_lora_targets(config.target_modules),
                                 task_type="CAUSAL_LM")  # fmt: skip

    def tokenized(rows: list[dict]) -> Dataset:
        return Dataset.from_list([tokenize_for_assistant_loss(tokenizer, r["messages"], config.max_length)
                                  for r in rows])  # fmt: skip

    trainer = SFTTrainer(
        model=model, args=args, train_dataset=tokenized(splits["train"]),
        eval_dataset=tokenized(splits["validation"]) if splits.get("validation") else None,
        processing_class=tokenizer, peft_config=peft_config, callbacks=[Record()],
    )  # fmt: skip
    start = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=True if resume else None)
    wall = time.perf_counter() - start
    trainer.save_model(str(out))  # adapter (or model) + tokenizer with the chat template; rank 0 only
    main = trainer.accelerator.is_main_process
    if main:
        tokenizer.save_pretrained(str(out))
    eval_loss = None
    if splits.get("validation"):
        eval_loss = float(trainer.evaluate()["eval_loss"])  # every rank takes part; the loss is gathered
    tokens = int(getattr(trainer.state, "num_input_tokens_seen", 0) or 0)
    summary = {
        "base": config.base, "base_checkpoint": str(base_dir), "data": str(data), "out": str(out),
        "adapter_spec": f"hf:{config.base.split(':', 1)[1]}+{out}" if not config.full else f"hf:{out}",
        "config": config.model_dump(), "config_hash": config.hash(), "resumed": resume,
        "examples": {k: len(v) for k, v in splits.items()}, "steps": trainer.state.global_step,
        "loss_curve": losses, "final_train_loss": float(result.training_loss), "eval_loss": eval_loss,
        "tokens_seen": tokens, "train_wall_s": round(wall, 1),
        "tokens_per_s": round(tokens / wall, 1) if wall > 0 else None,
        "device": "cuda" if cuda else "cpu", "processes": trainer.accelerator.num_processes,
        "empllm_version": __version__,
    }  # fmt: skip
    if not main:
        return summary
    if losses:
        _plot_loss(losses, out / "loss.png")
    if merge and not config.full:
        merged = trainer.model.merge_and_unload()
        merged.save_pretrained(str(out / "merged"))
        tokenizer.save_pretrained(str(out / "merged"))
        summary["merged"] = str(out / "merged")
    write_text_atomic(out / "train_summary.json", json.dumps(summary, indent=2) + "\n")
    return summary
