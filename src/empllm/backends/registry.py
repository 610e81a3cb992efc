"""Model specs: the one place a spec string is parsed and turned into a backend.

    llamacpp:EMBEDDED[+ADAPTER] | llamacpp:/path/model.gguf[+ADAPTER]
    openai:MODEL | openai:MODEL@http://HOST:PORT/v1 | openai:NAME (an endpoint of the models file)
    hf:PATH[+ADAPTER] | hf:ORG/NAME[+ADAPTER] (hub id) | hf:EMBEDDED[+ADAPTER] | scripted:FILE
EMBEDDED is gemma-3-270m (the default) or smollm2-135m-instruct (backends/embedded.py).
ADAPTER is a PEFT LoRA folder (what `empllm train` writes); llama.cpp gets it converted to GGUF once.
Backends are imported lazily, so the package works without the extras a spec does not need.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from empllm.backends.base import Backend
from empllm.backends.embedded import (
    EMBEDDED_MODELS,
    EMBEDDED_NAME,
    embedded_gguf_path,
    embedded_package_status,
    is_embedded,
)
from empllm.errors import BackendUnavailable, SpecError
from empllm.settings import Settings

KINDS = ("llamacpp", "openai", "hf", "scripted")


@dataclass(frozen=True)
class ModelSpec:
    kind: str
    target: str  # model name, file or folder
    adapter: str | None = None  # a PEFT adapter folder (hf: and llamacpp:)

    def __str__(self) -> str:
        return f"{self.kind}:{self.target}" + (f"+{self.adapter}" if self.adapter else "")


def parse_spec(spec: str) -> ModelSpec:
    kind, sep, rest = spec.partition(":")
    if not sep or not rest.strip():
        raise SpecError(
            f"model spec {spec!r} is not KIND:TARGET; expected one of " + ", ".join(f"{k}:..." for k in KINDS)
        )
    if kind not in KINDS:
        raise SpecError(f"unknown backend {kind!r} in model spec {spec!r}; known: {', '.join(KINDS)}")
    rest = rest.strip()
    if kind == "openai":
        from empllm.backends.endpoints import split_inline

        split_inline(rest)  # refuses credentials in an inline URL before anything records the spec
    if kind in ("hf", "llamacpp") and "+" in rest:
        base, _, adapter = rest.partition("+")
        if not base.strip() or not adapter.strip():
            raise SpecError(f"model spec {spec!r}: expected {kind}:{'PATH' if kind == 'hf' else 'MODEL'}+ADAPTER")
        return ModelSpec(kind, base.strip(), adapter.strip())
    return ModelSpec(kind, rest)


def _gguf_for(target: str, spec: str, settings: Settings) -> Path:
    if is_embedded(target):
        return embedded_gguf_path(settings.cache_dir, target)
    path = Path(target).expanduser()
    if path.suffix != ".gguf":
        names = ", ".join(f"llamacpp:{name}" for name in EMBEDDED_MODELS)
        raise SpecError(f"model spec {spec!r}: expected {names} or a path to a .gguf file")
    if not path.is_file():
        raise BackendUnavailable(f"model spec {spec!r}: GGUF file {path} does not exist")
    return path


def create_backend(spec: str, settings: Settings | None = None, *, base_url: str | None = None) -> Backend:
    settings = settings or Settings()
    parsed = parse_spec(spec)
    if parsed.kind == "scripted":
        from empllm.backends.scripted import ScriptedBackend

        return ScriptedBackend(spec, Path(parsed.target).expanduser())
    if parsed.kind == "llamacpp":
        from empllm.backends.llamacpp import LlamaCppBackend, llama_cpp_status

        if why := llama_cpp_status():
            raise BackendUnavailable(f"{spec} is unavailable: {why}")
        gguf = _gguf_for(parsed.target, spec, settings)
        lora = _lora_gguf_for(parsed.adapter, gguf, spec, settings) if parsed.adapter else None
        return LlamaCppBackend(spec, gguf, n_ctx=settings.n_ctx, n_threads=settings.n_threads, lora_path=lora)
    if parsed.kind == "openai":
        from empllm.backends.endpoints import resolve_endpoint
        from empllm.backends.openai_compat import OpenAIBackend

        model, endpoint = resolve_endpoint(parsed.target, settings.models_file, base_url or settings.base_url)
        return OpenAIBackend(spec, model, base_url=endpoint.base_url, api_key=endpoint.api_key(),
                             timeout_s=settings.request_timeout_s,
                             structured_output=endpoint.structured_output)  # fmt: skip
    # hf
    from empllm.backends.hf import HFBackend, dequantized_checkpoint, transformers_status

    if why := transformers_status():
        raise BackendUnavailable(f"{spec} is unavailable: {why}")
    target = parsed.target
    if is_embedded(target) or target.endswith(".gguf"):
        model_dir: Path | str = dequantized_checkpoint(_gguf_for(target, spec, settings), settings.cache_dir)
    else:
        from empllm.backends.hf_checkpoint import checkpoint_dir

        model_dir = checkpoint_dir(target, spec)  # a folder, or a hub id through the Hugging Face cache
    adapter = _adapter_dir(parsed.adapter, spec) if parsed.adapter else None
    return HFBackend(spec, model_dir, adapter)


def _adapter_dir(adapter: str, spec: str) -> Path:
    path = Path(adapter).expanduser()
    if not (path / "adapter_config.json").is_file():
        raise BackendUnavailable(f"model spec {spec!r}: {path} is not a PEFT adapter (no adapter_config.json)")
    return path


def _lora_gguf_for(adapter: str, gguf: Path, spec: str, settings: Settings) -> Path:
    """The adapter as a GGUF LoRA for llama.cpp, converted once against the base GGUF's
    transformers checkpoint (the one `empllm train` trained on; only its config is read)."""
    from empllm.backends.hf import dequantized_checkpoint, transformers_status
    from empllm.backends.lora_gguf import adapter_gguf

    adapter_dir = _adapter_dir(adapter, spec)
    if why := transformers_status():
        raise BackendUnavailable(f"{spec} is unavailable: converting its adapter needs {why}")
    return adapter_gguf(adapter_dir, dequantized_checkpoint(gguf, settings.cache_dir))


@dataclass
class BackendInfo:
    kind: str
    example: str
    usable: bool
    why: str


def describe_backends(settings: Settings | None = None) -> list[BackendInfo]:
    """Which backends can run here, and why not, without loading any model."""
    import os

    from empllm.backends.hf import transformers_status
    from empllm.backends.llamacpp import llama_cpp_status

    settings = settings or Settings()
    rows = []
    for name, model in EMBEDDED_MODELS.items():
        why_llama = llama_cpp_status() or embedded_package_status(name)
        default = " (default)" if name == EMBEDDED_NAME else ""
        rows.append(BackendInfo("llamacpp", f"llamacpp:{name}{default}", why_llama is None, why_llama or model.summary))
    rows.append(
        BackendInfo(
            "llamacpp",
            "llamacpp:/path/model.gguf",
            llama_cpp_status() is None,
            llama_cpp_status() or "any GGUF file",
        )
    )
    from empllm.backends.lora_gguf import converter_status

    why_lora = llama_cpp_status() or transformers_status() or converter_status()
    rows.append(
        BackendInfo(
            "llamacpp",
            f"llamacpp:{EMBEDDED_NAME}+ADAPTER (or MODEL.gguf+ADAPTER)",
            why_lora is None,
            why_lora or "a PEFT adapter from empllm train, converted to GGUF once",
        )
    )
    if settings.models_file is not None:
        from empllm.backends.endpoints import load_models_file

        for name, endpoint in load_models_file(settings.models_file).endpoints.items():
            ok, why = _probe_server(endpoint.base_url, endpoint.api_key())
            rows.append(BackendInfo("openai", f"openai:{name}", ok, f"{endpoint.model or name}: {why}"))
    base_url = settings.base_url or os.environ.get("OPENAI_BASE_URL")
    if base_url:
        ok, why = _probe_server(base_url, os.environ.get("OPENAI_API_KEY"))
        rows.append(BackendInfo("openai", "openai:MODEL", ok, why))
    else:
        rows.append(
            BackendInfo("openai", "openai:MODEL", True, "no OPENAI_BASE_URL/--base-url: api.openai.com (not contacted)")
        )
    why_hf = transformers_status()
    rows.append(
        BackendInfo(
            "hf",
            "hf:PATH[+ADAPTER] or hf:EMBEDDED (" + ", ".join(EMBEDDED_MODELS) + ")",
            why_hf is None,
            why_hf or "transformers + torch; an embedded GGUF is dequantized once",
        )
    )
    rows.append(BackendInfo("scripted", "scripted:FILE.yaml|.jsonl", True, "replies from a file"))
    return rows


def _probe_server(base_url: str, key: str | None) -> tuple[bool, str]:
    """Ask a configured OpenAI-compatible server for its models (2 s timeout)."""
    import httpx

    from empllm.backends.openai_compat import redact_url

    url = redact_url(base_url).rstrip("/")
    try:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        resp = httpx.get(url + "/models", timeout=2.0, headers=headers)
        resp.raise_for_status()
        names = [m.get("id", "?") for m in resp.json().get("data", [])]
    except (httpx.HTTPError, ValueError, AttributeError) as exc:
        return False, f"server at {url} did not answer /models: {type(exc).__name__}"
    return True, f"server at {url} serves: {', '.join(names[:5]) or '(no models listed)'}"
