"""Supervised fine-tuning (TRL SFTTrainer + PEFT LoRA) on exported EmpLLM data."""
