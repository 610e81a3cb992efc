# The two commands of the README. Both set up .venv first (idempotent, see scripts/setup.sh).
.PHONY: setup run test lint bench

PROMPT ?= I have been feeling anxious about my exams, and I

setup:
	bash scripts/setup.sh

# The main job on the embedded default model (offline): a continuation from Gemma 3 270M.
run: setup
	.venv/bin/empllm generate --model llamacpp:gemma-3-270m "$(PROMPT)"

test: setup
	.venv/bin/ruff check src tests benchmarks
	.venv/bin/python -m pytest -q --timeout=900

lint:
	.venv/bin/ruff check src tests benchmarks
	.venv/bin/ruff format --check src tests benchmarks

bench: setup
	.venv/bin/python benchmarks/embedded_generation.py
