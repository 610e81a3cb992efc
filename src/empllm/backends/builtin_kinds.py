"""The built-in kinds of model spec:

    llamacpp:EMBEDDED[+ADAPTER] | llamacpp:/path/model.gguf[+ADAPTER]
    openai:MODEL | openai:MODEL@http://HOST:PORT/v1 | openai:NAME (an endpoint of the models file)
    hf:PATH[+ADAPTER] | hf:ORG/NAME[+ADAPTER] (hub id) | hf:EMBEDDED[+ADAPTER] | scripted:FILE

EMBEDDED is gemma-3-270m (the default) or smollm2-135m-instruct (backends/embedded.py). ADAPTER is
a PEFT LoRA folder (what `empllm train` writes); llama.cpp gets it converted to GGUF once. Backends
are imported lazily, so the package works without the extras a spec does not need.
"""

from __future__ import annotations

import os
from pathlib import Path

from empllm.backends.embedded import (
    EMBEDDED_MODELS,
    EMBEDDED_NAME,
    embedded_gguf_path,
    embedded_package_status,
    is_embedded,
)
from empllm.backends.kind import BackendInfo, BackendKind, ModelSpec
from empllm.errors import BackendUnavailable, SpecError
from empllm.settings import Settings


class LlamaCppKind(BackendKind):
    name, takes_adapter, serial = "llamacpp", True, True

    def create(self, parsed: ModelSpec, settings: Settings, base_url: str | None):
        from empllm.backends.llamacpp import LlamaCppBackend, llama_cpp_status

        spec = str(parsed)
        if why := llama_cpp_status():
            raise BackendUnavailable(f"{spec} is unavailable: {why}")
        gguf = gguf_for(parsed.target, spec, settings)
        lora = _lora_gguf_for(parsed.adapter, gguf, spec, settings) if parsed.adapter else None
        return LlamaCppBackend(spec, gguf, n_ctx=settings.n_ctx, n_threads=settings.n_threads, lora_path=lora)

    def describe(self, settings: Settings) -> list[BackendInfo]:
        from empllm.backends.hf import transformers_status
        from empllm.backends.llamacpp import llama_cpp_status
        from empllm.backends.lora_gguf import converter_status

        rows = []
        for name, model in EMBEDDED_MODELS.items():
            why = llama_cpp_status() or embedded_package_status(name)
            default = " (default)" if name == EMBEDDED_NAME else ""
            rows.append(BackendInfo(self.name, f"llamacpp:{name}{default}", why is None, why or model.summary))
        why = llama_cpp_status()
        rows.append(BackendInfo(self.name, "llamacpp:/path/model.gguf", why is None, why or "any GGUF file"))
        why_lora = llama_cpp_status() or transformers_status() or converter_status()
        rows.append(BackendInfo(self.name, f"llamacpp:{EMBEDDED_NAME}+ADAPTER (or MODEL.gguf+ADAPTER)",
                                why_lora is None,
                                why_lora or "a PEFT adapter from empllm train, converted to GGUF once"))  # fmt: skip
        return rows


class OpenAIKind(BackendKind):
    name = "openai"

    def parse(self, spec: str, rest: str) -> ModelSpec:
        from empllm.backends.endpoints import split_inline

        split_inline(rest)  # refuses credentials in an inline URL before anything records the spec
        return super().parse(spec, rest)

    def create(self, parsed: ModelSpec, settings: Settings, base_url: str | None):
        from empllm.backends.endpoints import resolve_endpoint
        from empllm.backends.openai_compat import OpenAIBackend

        model, endpoint = resolve_endpoint(parsed.target, settings.models_file, base_url or settings.base_url)
        servers = [OpenAIBackend(str(parsed), model, base_url=url, api_key=endpoint.api_key(),
                                 timeout_s=settings.request_timeout_s, structured_output=endpoint.structured_output)
                   for url in endpoint.urls()]  # fmt: skip
        if len(servers) == 1:
            return servers[0]
        from empllm.backends.replica_pool import ReplicaPool

        return ReplicaPool(str(parsed), servers)

    def describe(self, settings: Settings) -> list[BackendInfo]:
        rows = []
        if settings.models_file is not None:
            from empllm.backends.endpoints import load_models_file

            for name, endpoint in load_models_file(settings.models_file).endpoints.items():
                for url in endpoint.urls():
                    ok, why = probe_server(url, endpoint.api_key())
                    rows.append(BackendInfo(self.name, f"openai:{name}", ok, f"{endpoint.model or name}: {why}"))
        base_url = settings.base_url or os.environ.get("OPENAI_BASE_URL")
        if base_url:
            ok, why = probe_server(base_url, os.environ.get("OPENAI_API_KEY"))
            rows.append(BackendInfo(self.name, "openai:MODEL", ok, why))
        else:
            rows.append(BackendInfo(self.name, "openai:MODEL", True,
                                    "no OPENAI_BASE_URL/--base-url: api.openai.com (not contacted)"))  # fmt: skip
        return rows


class HFKind(BackendKind):
    name, takes_adapter = "hf", True

    def create(self, parsed: ModelSpec, settings: Settings, base_url: str | None):
        from empllm.backends.hf import HFBackend, dequantized_checkpoint, transformers_status

        spec = str(parsed)
        if why := transformers_status():
            raise BackendUnavailable(f"{spec} is unavailable: {why}")
        target = parsed.target
        if is_embedded(target) or target.endswith(".gguf"):
            model_dir: Path | str = dequantized_checkpoint(gguf_for(target, spec, settings), settings.cache_dir)
        else:
            from empllm.backends.hf_checkpoint import checkpoint_dir

            model_dir = checkpoint_dir(target, spec)  # a folder, or a hub id through the Hugging Face cache
        adapter = adapter_dir(parsed.adapter, spec) if parsed.adapter else None
        return HFBackend(spec, model_dir, adapter)

    def describe(self, settings: Settings) -> list[BackendInfo]:
        from empllm.backends.hf import transformers_status

        why = transformers_status()
        example = "hf:PATH[+ADAPTER] or hf:EMBEDDED (" + ", ".join(EMBEDDED_MODELS) + ")"
        return [BackendInfo(self.name, example, why is None,
                            why or "transformers + torch; an embedded GGUF is dequantized once")]  # fmt: skip


class ScriptedKind(BackendKind):
    name = "scripted"

    def create(self, parsed: ModelSpec, settings: Settings, base_url: str | None):
        from empllm.backends.scripted import ScriptedBackend

        return ScriptedBackend(str(parsed), Path(parsed.target).expanduser())

    def describe(self, settings: Settings) -> list[BackendInfo]:
        return [BackendInfo(self.name, "scripted:FILE.yaml|.jsonl", True, "replies from a file")]


BUILTIN_KINDS = {kind.name: kind for kind in (LlamaCppKind, OpenAIKind, HFKind, ScriptedKind)}


def gguf_for(target: str, spec: str, settings: Settings) -> Path:
    if is_embedded(target):
        return embedded_gguf_path(settings.cache_dir, target)
    path = Path(target).expanduser()
    if path.suffix != ".gguf":
        names = ", ".join(f"llamacpp:{name}" for name in EMBEDDED_MODELS)
        raise SpecError(f"model spec {spec!r}: expected {names} or a path to a .gguf file")
    if not path.is_file():
        raise BackendUnavailable(f"model spec {spec!r}: GGUF file {path} does not exist")
    return path


def adapter_dir(adapter: str, spec: str) -> Path:
    path = Path(adapter).expanduser()
    if not (path / "adapter_config.json").is_file():
        raise BackendUnavailable(f"model spec {spec!r}: {path} is not a PEFT adapter (no adapter_config.json)")
    return path


def _lora_gguf_for(adapter: str, gguf: Path, spec: str, settings: Settings) -> Path:
    """The adapter as a GGUF LoRA for llama.cpp, converted once against the base GGUF's
    transformers checkpoint (the one `empllm train` trained on; only its config is read)."""
    from empllm.backends.hf import dequantized_checkpoint, transformers_status
    from empllm.backends.lora_gguf import adapter_gguf

    folder = adapter_dir(adapter, spec)
    if why := transformers_status():
        raise BackendUnavailable(f"{spec} is unavailable: converting its adapter needs {why}")
    return adapter_gguf(folder, dequantized_checkpoint(gguf, settings.cache_dir))


def probe_server(base_url: str, key: str | None) -> tuple[bool, str]:
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
