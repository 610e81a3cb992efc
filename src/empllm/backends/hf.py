"""`hf:PATH[+ADAPTER]` — a transformers checkpoint (optionally with a PEFT adapter), exact scores.

`hf:gemma-3-270m` (or `hf:/path/model.gguf`) loads the GGUF through transformers, dequantized to
float32 once and cached as safetensors, so training and evaluation see the weights generation uses.
"""

from __future__ import annotations

import copy
import hashlib
import inspect
import os
import shutil
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from empllm.backends.base import Capabilities, Completion, GenerationSettings, Usage, file_fingerprint
from empllm.backends.scoring import split_for_scoring
from empllm.backends.sync_bridge import run_locked, stream_locked
from empllm.backends.transcript import render_transcript, transcript_stops
from empllm.errors import BackendError, BackendUnavailable
from empllm.types import Message


def transformers_status() -> str | None:
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as exc:
        return f"torch/transformers are not installed (pip install 'empllm[train]'): {exc}"
    return None


def dequantized_checkpoint(gguf_path: Path, cache_dir: Path) -> Path:
    """A safetensors checkpoint of a GGUF file, made once (40-100 s on CPU) and reused."""
    st = gguf_path.stat()
    key = hashlib.sha256(f"{gguf_path.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()[:12]
    target = cache_dir / "models" / f"{gguf_path.stem}-hf-{key}"
    if (target / "config.json").is_file():
        return target
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tmp = target.with_name(target.name + f".partial-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name)
        model = AutoModelForCausalLM.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name)
        # The weights are plain float32 once loaded; drop the GGUF "quantizer" marker so
        # transformers agrees to save them as an ordinary checkpoint.
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        os.replace(tmp, target)  # the checkpoint appears whole or not at all
    except (OSError, ValueError) as exc:
        raise BackendUnavailable(f"could not convert {gguf_path} for transformers: {exc}") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


class HFBackend:
    def __init__(self, spec: str, model_dir: Path | str, adapter: Path | None = None):
        why = transformers_status()
        if why:
            raise BackendUnavailable(f"{spec} is unavailable: {why}")
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.spec = spec
        self.adapter = adapter
        self.cache_identity = file_fingerprint(Path(model_dir) / "config.json", adapter)
        self._torch = torch
        self.device = "cuda" if torch.cuda.is_available() else "cpu"
        dtype = torch.bfloat16 if self.device == "cuda" else torch.float32
        try:
            tokenizer_src = adapter if adapter and (adapter / "tokenizer_config.json").is_file() else model_dir
            self.tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_src))
            model = AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=dtype)
            if adapter is not None:
                from peft import PeftModel

                model = PeftModel.from_pretrained(model, str(adapter))
        except (OSError, ValueError) as exc:
            raise BackendUnavailable(f"{spec}: could not load {model_dir}: {exc}") from None
        self.model = model.to(self.device).eval()
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self._lock = threading.Lock()
        self._max_context = getattr(self.model.config, "max_position_embeddings", None)
        # A model fine-tuned on Gemma's turn format ends its reply with <end_of_turn>, not <eos>.
        self._eos_ids = [self.tokenizer.eos_token_id]
        template = getattr(self.tokenizer, "chat_template", None) or ""
        if "<end_of_turn>" in template:
            self._eos_ids.append(self.tokenizer.convert_tokens_to_ids("<end_of_turn>"))
        # transformers 5 renamed `past_key_values` to `cache` (argument and output field).
        base = self.model.get_base_model() if hasattr(self.model, "get_base_model") else self.model
        self._cache_arg = "cache" if "cache" in inspect.signature(type(base).forward).parameters else "past_key_values"

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(
            chat_tuned=bool(getattr(self.tokenizer, "chat_template", None)),
            prompt_logprobs=True,
            max_context=self._max_context,
            seeded=True,
            cache_identity=self.cache_identity,
            agent_style="think" if self.adapter is not None else None,  # an adapter from empllm train
        )

    def _chat_prompt(self, messages: list[Message], gen: GenerationSettings) -> tuple[str, tuple[str, ...]]:
        if self.capabilities.chat_tuned:
            prompt = self.tokenizer.apply_chat_template(
                [m.model_dump() for m in messages], tokenize=False, add_generation_prompt=True
            )
            return prompt, gen.stop
        return render_transcript(messages), transcript_stops(gen.stop)

    def _generate_kwargs(self, prompt: str, gen: GenerationSettings, stops: tuple[str, ...]) -> dict:
        # A chat template already holds the BOS token; a plain prompt needs it added.
        add_special = not self.capabilities.chat_tuned or not prompt.startswith(self.tokenizer.bos_token or "\0")
        enc = self.tokenizer(prompt, return_tensors="pt", add_special_tokens=add_special).to(self.device)
        if gen.seed is not None:
            self._torch.manual_seed(gen.seed)
        kwargs = dict(
            **enc,
            max_new_tokens=gen.max_tokens,
            do_sample=gen.temperature > 0,
            pad_token_id=self.tokenizer.pad_token_id,
            eos_token_id=self._eos_ids,
        )
        if gen.temperature > 0:
            kwargs.update(temperature=gen.temperature, top_p=gen.top_p)
        if stops:
            kwargs.update(stop_strings=list(stops), tokenizer=self.tokenizer)
        return kwargs

    def _complete_sync(self, prompt: str, gen: GenerationSettings, stops: tuple[str, ...]) -> Completion:
        start = time.perf_counter()
        kwargs = self._generate_kwargs(prompt, gen, stops)
        n_prompt = kwargs["input_ids"].shape[1]
        with self._torch.no_grad():
            out = self.model.generate(**kwargs)
        new = out[0, n_prompt:]
        text = self.tokenizer.decode(new, skip_special_tokens=True)
        finish = "length" if len(new) >= gen.max_tokens else "stop"
        text, cut = _cut_at_stop(text, stops)
        return Completion(
            text=text,
            finish_reason="stop" if cut else finish,
            usage=Usage(prompt_tokens=n_prompt, completion_tokens=len(new), wall_s=time.perf_counter() - start),
        )

    async def complete(self, prompt: str, gen: GenerationSettings) -> Completion:
        return await run_locked(self._lock, lambda: self._complete_sync(prompt, gen, gen.stop))

    async def chat(self, messages: list[Message], gen: GenerationSettings) -> Completion:
        prompt, stops = self._chat_prompt(messages, gen)
        done = await run_locked(self._lock, lambda: self._complete_sync(prompt, gen, stops))
        return done.model_copy(update={"text": done.text.strip()})

    def _stream_sync(self, messages: list[Message], gen: GenerationSettings) -> Iterator[str]:
        from transformers import TextIteratorStreamer

        prompt, stops = self._chat_prompt(messages, gen)
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        kwargs = self._generate_kwargs(prompt, gen, stops)
        failure: list[BaseException] = []

        def generate() -> None:
            try:
                self.model.generate(**kwargs, streamer=streamer)
            except BaseException as exc:  # noqa: BLE001 - re-raised below; the streamer must still end
                failure.append(exc)
                streamer.end()

        worker = threading.Thread(target=generate)
        worker.start()
        text = ""
        emitted = 0
        for piece in streamer:
            text += piece
            visible, cut = _cut_at_stop(text, stops)
            # Hold back text that could be the start of a stop sequence.
            safe = len(visible) if cut else max(emitted, len(visible) - max((len(s) for s in stops), default=0))
            if safe > emitted:
                chunk = visible[emitted:safe]
                if emitted == 0:
                    chunk = chunk.lstrip()
                emitted = safe
                if chunk:
                    yield chunk
            if cut:  # let generate() finish before the lock is released (a second pass over an
                for _ in streamer:  # exhausted streamer would wait forever)
                    pass
                break
        worker.join()
        if failure:
            raise BackendError(f"{self.spec}: generation failed: {failure[0]}") from failure[0]
        visible, _ = _cut_at_stop(text, stops)
        if len(visible) > emitted:
            yield visible[emitted:] if emitted else visible[emitted:].lstrip()

    async def stream_chat(self, messages: list[Message], gen: GenerationSettings) -> AsyncIterator[str]:
        async for piece in stream_locked(self._lock, lambda: self._stream_sync(messages, gen)):
            yield piece

    def _loglikelihood_sync(self, context: str, continuations: list[str]) -> list[float]:
        torch = self._torch
        ctx, conts = split_for_scoring(lambda t: self.tokenizer(t)["input_ids"], context, continuations)
        longest = len(ctx) + max(len(c) for c in conts)
        if self._max_context and longest > self._max_context:
            raise BackendError(f"{self.spec}: scoring input of {longest} tokens is too long")
        with torch.no_grad():
            # The shared context once; each continuation continues from its KV cache.
            prefix = self.model(torch.tensor([ctx], device=self.device), use_cache=True)
            last = torch.log_softmax(prefix.logits[0, -1].float(), dim=-1)
            results = []
            for cont in conts:
                total = last[cont[0]]
                if len(cont) > 1:  # a one-token continuation (a rating " 7") needs no forward pass
                    cache = {self._cache_arg: copy.deepcopy(getattr(prefix, self._cache_arg))}
                    ids = torch.tensor([cont[:-1]], device=self.device)
                    logprobs = torch.log_softmax(self.model(ids, use_cache=True, **cache).logits[0].float(), dim=-1)
                    targets = torch.tensor(cont[1:], device=self.device)
                    total = total + logprobs[torch.arange(len(cont) - 1), targets].sum()
                results.append(float(total))
        return results

    async def loglikelihood(self, context: str, continuations: list[str]) -> list[float]:
        return await run_locked(self._lock, lambda: self._loglikelihood_sync(context, continuations))

    async def aclose(self) -> None:
        return None


def _cut_at_stop(text: str, stops: tuple[str, ...]) -> tuple[str, bool]:
    cuts = [text.index(s) for s in stops if s and s in text]
    return (text[: min(cuts)], True) if cuts else (text, False)
