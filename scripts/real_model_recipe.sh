#!/usr/bin/env bash
# The real-user path, run end to end on one machine: a chat-tuned model on its own OpenAI-compatible
# server simulates and judges; the sessions are curated, exported and train a Hugging Face chat model
# with its own template; EmpTest measures it; `empllm serve` serves it. SmolLM2 135M Instruct, served
# by llama-cpp-python's server, stands in for the vLLM or llama.cpp server a user would run.
#
#   bash scripts/real_model_recipe.sh [WORKDIR]   (15 minutes on 2 cores on 2026-12-03, other jobs running)
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-recipe-run}
mkdir -p "$work"
empllm=.venv/bin/empllm
py=.venv/bin/python

# 1. the server (a user would run: vllm serve MODEL --port 8001, or llama-server -m MODEL.gguf --port 8001)
gguf=$($py -c "from empllm.backends.embedded import embedded_gguf_path; from empllm.settings import Settings; print(embedded_gguf_path(Settings().cache_dir, 'smollm2-135m-instruct'))")
port=8001
$py -m llama_cpp.server --model "$gguf" --host 127.0.0.1 --port $port --n_ctx 4096 --n_threads "$(nproc)" \
  --verbose False > "$work/llama-server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
until curl -sf "http://127.0.0.1:$port/v1/models" > /dev/null; do sleep 1; done

# 2. a models file: one named endpoint per server, each with the variable that holds its key
cat > "$work/models.yaml" <<YAML
endpoints:
  smol:
    model: smollm2
    base_url: http://127.0.0.1:$port/v1
    api_key_env: SMOL_KEY
YAML
export EMPLLM_MODELS_FILE=$work/models.yaml SMOL_KEY=local-no-key-needed

# 3. simulate: the psychologist on the server, the client in process (two backends in one run)
$empllm simulate --out "$work/sim" -n 4 --language en --min-turns 2 --max-turns 3 \
  --psychologist-model openai:smol --client-model llamacpp:gemma-3-270m --concurrency 2
# 4. curate with the judge on the server, then export for a reasoning-field template or <think>
$empllm curate "$work/sim" "$work/cur" --judge openai:smol
$empllm export "$work/cur" "$work/data" --contemplation think --validation 0
# 5. train the HF chat model with its own (ChatML) template; the loss covers the assistant turns only
$empllm train "$work/data" --out "$work/adapter" --base hf:smollm2-135m-instruct --max-steps 10 --batch-size 2
# 6. EmpTest: respond_gen, answered by the tuned model and judged by the server
$empllm bench --model "hf:smollm2-135m-instruct+$work/adapter" --tasks respond_gen --judge openai:smol \
  --language en --limit 5 --out "$work/bench"
# 7. serve the tuned model and ask it once through the OpenAI API
$empllm serve --model "hf:smollm2-135m-instruct+$work/adapter" --port 8002 > "$work/serve.log" 2>&1 &
serve=$!
trap 'kill $server $serve 2>/dev/null || true' EXIT
until curl -sf http://127.0.0.1:8002/health > /dev/null; do sleep 1; done
curl -s http://127.0.0.1:8002/v1/chat/completions -H 'Content-Type: application/json' -d '{
  "messages": [{"role": "system", "content": "Keep replies short."},
               {"role": "user", "content": "I failed my driving test again and I feel stupid."}],
  "temperature": 0.3, "include_reasoning": true}' | tee "$work/serve-answer.json"
echo
echo "recipe done: $work"
