"""The baseline for benchmarks/training_throughput.py: a plain TRL SFTTrainer script, no EmpLLM,
with the same model, data, chat template and settings. Prints {"tokens": N, "seconds": S}.

    python benchmarks/plain_trl_sft.py DATA.jsonl BASE_CHECKPOINT OUT --steps 10 --batch-size 4 --max-length 512
"""

import argparse
import json

import torch
from datasets import Dataset
from peft import LoraConfig
from transformers import AutoModelForCausalLM, AutoTokenizer
from trl import SFTConfig, SFTTrainer

from empllm.train.chat_template import GEMMA_TURN_TEMPLATE  # the same template, so the same tokens

parser = argparse.ArgumentParser()
parser.add_argument("data")
parser.add_argument("base")
parser.add_argument("out")
parser.add_argument("--steps", type=int, default=10)
parser.add_argument("--batch-size", type=int, default=4)
parser.add_argument("--max-length", type=int, default=512)
args = parser.parse_args()

rows = [json.loads(line) for line in open(args.data, encoding="utf-8")]
tokenizer = AutoTokenizer.from_pretrained(args.base)
tokenizer.chat_template = GEMMA_TURN_TEMPLATE
model = AutoModelForCausalLM.from_pretrained(args.base, dtype=torch.float32)
trainer = SFTTrainer(
    model=model,
    args=SFTConfig(
        output_dir=args.out,
        max_steps=args.steps,
        per_device_train_batch_size=args.batch_size,
        learning_rate=2e-4,
        warmup_steps=2,
        logging_steps=1,
        save_strategy="no",
        max_length=args.max_length,
        assistant_only_loss=True,
        report_to=[],
        include_num_input_tokens_seen=True,
        disable_tqdm=True,
        seed=0,
        bf16=False,  # a CPU run (bf16 needs a GPU)
    ),  # fmt: skip
    train_dataset=Dataset.from_list([{"messages": r["messages"]} for r in rows]),
    processing_class=tokenizer,
    peft_config=LoraConfig(
        r=8,
        lora_alpha=16,
        lora_dropout=0.05,
        target_modules=["q_proj", "k_proj", "v_proj", "o_proj"],
        task_type="CAUSAL_LM",
    ),  # fmt: skip
)
result = trainer.train()
print(json.dumps({"tokens": int(trainer.state.num_input_tokens_seen), "seconds": result.metrics["train_runtime"]}))
