# The two commands of the README. Both set up .venv first (idempotent, see scripts/setup.sh).
.PHONY: setup run quick generate test lint bench perf

PROMPT ?= I have been feeling anxious about my exams, and I
DEMO_OUT ?= runs/empllm-demo

setup:
	bash scripts/setup.sh

# The main job on the embedded default model (offline): the whole loop, simulate -> curate ->
# train with and without contemplation -> EmpTest on the three models -> DEMO_OUT/report.html.
run: setup
	.venv/bin/empllm demo --out $(DEMO_OUT)

# A smoke run of every stage of the demo (about 4 minutes).
quick: setup
	.venv/bin/empllm demo --quick --seed-data on --out $(DEMO_OUT)-quick

# One continuation from the embedded model.
generate: setup
	.venv/bin/empllm generate --model llamacpp:gemma-3-270m "$(PROMPT)"

test: setup
	.venv/bin/ruff check src tests benchmarks
	.venv/bin/python -m pytest -q --timeout=900

lint:
	.venv/bin/ruff check src tests benchmarks
	.venv/bin/ruff format --check src tests benchmarks

bench: setup
	.venv/bin/python benchmarks/embedded_generation.py

# The performance suite (docs/performance.md): every benchmark, one table in docs/benchmarks/suite.md.
perf: setup
	.venv/bin/python benchmarks/run_all.py
