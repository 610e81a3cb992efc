"""`llamacpp:MODEL+ADAPTER`: the spec, and converting a PEFT adapter to a GGUF LoRA once, with a
fake converter script (the real one runs in tests/backends/test_lora_llamacpp_embedded.py)."""

import json
import os
import sys

import pytest

from empllm.backends.lora_gguf import CONVERTER_ENV, adapter_gguf
from empllm.backends.registry import create_backend, parse_spec
from empllm.errors import BackendUnavailable, SpecError

# Writes its arguments as the output "GGUF" and counts its runs; FAIL in the adapter folder fails it.
FAKE_CONVERTER = """
import json, sys
from pathlib import Path
args = sys.argv[1:]
adapter, out = Path(args[0]), Path(args[args.index("--outfile") + 1])
if (adapter / "FAIL").exists():
    print("INFO: loading", file=sys.stderr)
    print("ValueError: lm_head is present in adapter, but is ignored in base model", file=sys.stderr)
    sys.exit(1)
runs = adapter.parent / "runs.txt"
runs.write_text(runs.read_text() + "x" if runs.exists() else "x")
out.write_text(json.dumps(args))
"""


@pytest.fixture
def fake_converter(tmp_path, monkeypatch):
    folder = tmp_path / "convert"
    folder.mkdir()
    (folder / "convert_lora_to_gguf.py").write_text(FAKE_CONVERTER)
    (folder / ".version").write_text("0.0.test\n")
    monkeypatch.setenv(CONVERTER_ENV, str(folder))
    return folder


@pytest.fixture
def adapter(tmp_path):
    folder = tmp_path / "adapter"
    folder.mkdir()
    (folder / "adapter_config.json").write_text(json.dumps({"r": 8, "lora_alpha": 16}))
    (folder / "adapter_model.safetensors").write_bytes(b"weights v1")
    base = tmp_path / "base"
    base.mkdir()
    (base / "config.json").write_text(json.dumps({"architectures": ["Gemma3ForCausalLM"]}))
    return folder, base


def runs(adapter_dir):
    path = adapter_dir.parent / "runs.txt"
    return len(path.read_text()) if path.exists() else 0


def test_llamacpp_spec_takes_an_adapter():
    spec = parse_spec("llamacpp:gemma-3-270m+/runs/adapter")
    assert (spec.kind, spec.target, spec.adapter) == ("llamacpp", "gemma-3-270m", "/runs/adapter")
    assert str(spec) == "llamacpp:gemma-3-270m+/runs/adapter"
    spec = parse_spec("llamacpp:/models/base.gguf+~/adapter")
    assert (spec.target, spec.adapter) == ("/models/base.gguf", "~/adapter")
    assert parse_spec("llamacpp:gemma-3-270m").adapter is None


@pytest.mark.parametrize("bad", ["llamacpp:+/runs/adapter", "llamacpp:gemma-3-270m+", "llamacpp:gemma-3-270m+ "])
def test_llamacpp_spec_with_an_empty_part_is_refused(bad):
    with pytest.raises(SpecError, match="llamacpp:MODEL\\+ADAPTER"):
        parse_spec(bad)


def test_llamacpp_spec_with_a_folder_that_is_no_adapter_is_refused(tmp_path, settings):
    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"GGUF")
    with pytest.raises(BackendUnavailable, match="not a PEFT adapter"):
        create_backend(f"llamacpp:{gguf}+{tmp_path}/no-adapter", settings)


def test_converts_once_and_reuses_the_result(adapter, fake_converter):
    adapter_dir, base = adapter
    out = adapter_gguf(adapter_dir, base)
    assert out.parent == adapter_dir and out.name.startswith("adapter-model-") and out.suffix == ".gguf"
    args = json.loads(out.read_text())
    assert args[0] == str(adapter_dir) and args[args.index("--base") + 1] == str(base)
    assert adapter_gguf(adapter_dir, base) == out and runs(adapter_dir) == 1
    assert not list(adapter_dir.glob("*.partial-*"))


def test_a_changed_adapter_is_converted_again_and_the_old_file_removed(adapter, fake_converter):
    adapter_dir, base = adapter
    first = adapter_gguf(adapter_dir, base)
    (adapter_dir / "adapter_model.safetensors").write_bytes(b"weights v2")
    second = adapter_gguf(adapter_dir, base)
    assert second != first and runs(adapter_dir) == 2
    assert sorted(adapter_dir.glob("adapter-model-*.gguf")) == [second]


def test_the_converter_runs_offline_with_this_python(adapter, fake_converter, monkeypatch):
    adapter_dir, base = adapter
    monkeypatch.setenv("NO_LOCAL_GGUF", "1")
    script = fake_converter / "convert_lora_to_gguf.py"
    script.write_text(
        "import json, os, sys\nfrom pathlib import Path\nargs = sys.argv[1:]\n"
        "env = {k: os.environ.get(k) for k in ('HF_HUB_OFFLINE', 'NO_LOCAL_GGUF')}\n"
        "Path(args[args.index('--outfile') + 1]).write_text(json.dumps([sys.executable, env]))\n"
    )
    python, env = json.loads(adapter_gguf(adapter_dir, base).read_text())
    assert python == sys.executable and env == {"HF_HUB_OFFLINE": "1", "NO_LOCAL_GGUF": None}


def test_a_missing_converter_names_the_setup_step(adapter, tmp_path, monkeypatch):
    adapter_dir, base = adapter
    monkeypatch.setenv(CONVERTER_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(BackendUnavailable) as info:
        adapter_gguf(adapter_dir, base)
    message = str(info.value)
    assert "convert_lora_to_gguf.py" in message and "scripts/setup.sh" in message and "\n" not in message


def test_the_default_converter_location_is_in_the_environment(adapter, monkeypatch):
    adapter_dir, base = adapter
    monkeypatch.delenv(CONVERTER_ENV, raising=False)
    monkeypatch.setattr(sys, "prefix", str(adapter_dir.parent / "empty-venv"))
    with pytest.raises(BackendUnavailable, match=r"empty-venv/share/empllm/llama-cpp-convert.*scripts/setup\.sh"):
        adapter_gguf(adapter_dir, base)


def test_a_failed_conversion_is_one_line_with_the_converters_last_words(adapter, fake_converter):
    adapter_dir, base = adapter
    (adapter_dir / "FAIL").touch()
    with pytest.raises(BackendUnavailable) as info:
        adapter_gguf(adapter_dir, base)
    message = str(info.value)
    assert message.startswith(f"could not convert the LoRA adapter {adapter_dir} to GGUF: ")
    assert message.endswith("lm_head is present in adapter, but is ignored in base model") and "\n" not in message
    assert not list(adapter_dir.glob("adapter-model-*"))


def test_an_adapter_without_weights_is_refused(adapter, fake_converter):
    adapter_dir, base = adapter
    os.remove(adapter_dir / "adapter_model.safetensors")
    with pytest.raises(BackendUnavailable, match="no adapter_model.safetensors or adapter_model.bin"):
        adapter_gguf(adapter_dir, base)


def test_the_spec_loads_the_base_gguf_with_the_converted_adapter(adapter, fake_converter, settings, monkeypatch):
    import empllm.backends.hf as hf
    import empllm.backends.llamacpp as llamacpp

    adapter_dir, base = adapter
    gguf = adapter_dir.parent / "model.gguf"
    gguf.write_bytes(b"GGUF")
    seen = {}
    monkeypatch.setattr(hf, "dequantized_checkpoint", lambda path, cache_dir: seen.setdefault("base", (path, base))[1])
    monkeypatch.setattr(llamacpp, "LlamaCppBackend", lambda spec, path, **kw: seen.setdefault("loaded", (path, kw)))
    create_backend(f"llamacpp:{gguf}+{adapter_dir}", settings)
    assert seen["base"][0] == gguf
    path, kwargs = seen["loaded"]
    assert path == gguf and kwargs["lora_path"] == next(adapter_dir.glob("adapter-model-*.gguf"))


def test_a_converted_adapter_needs_no_converter(adapter, fake_converter, tmp_path, monkeypatch):
    adapter_dir, base = adapter
    out = adapter_gguf(adapter_dir, base)
    monkeypatch.setenv(CONVERTER_ENV, str(tmp_path / "nowhere"))
    assert adapter_gguf(adapter_dir, base) == out
