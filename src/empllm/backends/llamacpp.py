"""`llamacpp:gemma-3-270m` (the embedded default) and `llamacpp:/path/model.gguf`, in process."""

from __future__ import annotations

import asyncio
import ctypes
import logging
import os
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import numpy as np

from empllm.backends.base import Capabilities, Completion, GenerationSettings, Usage, file_fingerprint
from empllm.backends.llamacpp_prefix import PrefixStates
from empllm.backends.scoring import split_for_scoring
from empllm.backends.sync_bridge import run_locked, run_on_model_thread, stream_locked
from empllm.backends.transcript import render_transcript, transcript_stops
from empllm.errors import BackendError, BackendUnavailable
from empllm.types import Message

_native_log = logging.getLogger("empllm.llama_cpp")
_log_callback = None  # kept referenced: llama.cpp holds a raw pointer to it


def _route_native_logs() -> None:
    """Send llama.cpp's own messages to logging (debug) instead of straight to stderr."""
    global _log_callback
    if _log_callback is not None:
        return
    import llama_cpp

    @llama_cpp.llama_log_callback
    def callback(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
        _native_log.debug(text.decode("utf-8", errors="replace").rstrip())

    _log_callback = callback
    llama_cpp.llama_log_set(callback, ctypes.c_void_p(0))


def llama_cpp_status() -> str | None:
    """None when llama-cpp-python imports, else why not."""
    try:
        import llama_cpp  # noqa: F401
    except ImportError as exc:
        return f"llama-cpp-python is not installed (pip install 'empllm[local]'): {exc}"
    return None


def token_logprobs(logits: np.ndarray, targets: list[int]) -> np.ndarray:
    """log p(target) per row: the target's logit minus the row's log-sum-exp. Only the sums need
    float64; a whole float64 log-softmax over the 262k vocabulary was 8x slower and was most of
    the time spent scoring long options (0.26 s vs 0.03 s for 40 rows, same values to 1e-8)."""
    logits = np.asarray(logits, dtype=np.float32)
    top = logits.max(axis=1)
    log_sum = np.log(np.exp(logits - top[:, None]).sum(axis=1, dtype=np.float64)) + top
    return logits[np.arange(len(targets)), targets] - log_sum


class LlamaCppBackend:
    """One GGUF file. Generation and scoring use two `Llama` handles over the same mmap'd weights:
    scoring needs logits for every prompt position (`logits_all`), which would slow generation."""

    def __init__(
        self,
        spec: str,
        model_path: Path,
        *,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        lora_path: Path | None = None,
    ):
        why = llama_cpp_status()
        if why:
            raise BackendUnavailable(f"{spec} is unavailable: {why}")
        if not model_path.is_file():
            raise BackendUnavailable(f"{spec}: GGUF file {model_path} does not exist")
        if lora_path is not None and not lora_path.is_file():
            raise BackendUnavailable(f"{spec}: LoRA adapter file {lora_path} does not exist")
        self.spec = spec
        self.model_path = model_path
        # a GGUF LoRA adapter (backends/lora_gguf.py), applied on both handles; llama-cpp-python
        # then reads the weights into memory instead of mmap'ing them
        self.lora_path = lora_path
        self.cache_identity = file_fingerprint(model_path)
        if lora_path is not None:  # by content: a retrained adapter never reuses cached results
            from empllm.backends.lora_gguf import file_sha256

            self.cache_identity += f"|lora:{file_sha256(lora_path)}"
        self.n_ctx = n_ctx
        # llama-cpp-python defaults to half the cores; generation is ~1.6x faster using all of them.
        self.n_threads = n_threads or os.cpu_count()
        self._lock = threading.Lock()
        self._generator = self._load(logits_all=False)
        self._prefixes = PrefixStates(self._generator)  # evaluated few-shot prefixes, reused
        self._scorer = None  # loaded on the first loglikelihood call
        self._grammars: dict[str, object] = {}  # GBNF text -> compiled LlamaGrammar
        template = self._generator.metadata.get("tokenizer.chat_template")
        self._chat_tuned = bool(template)

    def _load(self, *, logits_all: bool):
        import llama_cpp

        _route_native_logs()
        try:
            return run_on_model_thread(
                lambda: llama_cpp.Llama(
                    model_path=str(self.model_path),
                    n_ctx=self.n_ctx,
                    n_threads=self.n_threads,
                    logits_all=logits_all,
                    lora_path=str(self.lora_path) if self.lora_path else None,
                    verbose=False,
                )
            )
        except (ValueError, RuntimeError) as exc:
            raise BackendUnavailable(f"{self.spec}: llama.cpp could not load {self.model_path}: {exc}") from None

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(
            chat_tuned=self._chat_tuned,
            prompt_logprobs=True,
            max_context=self.n_ctx,
            seeded=True,
            structured_output=self._chat_tuned,  # chat() turns a JSON schema into a grammar
            cache_identity=self.cache_identity,
            agent_style="think" if self.lora_path is not None else None,  # an adapter from empllm train
        )

    # -- generation -------------------------------------------------------------------------
    def _completion_kwargs(self, gen: GenerationSettings, stop: tuple[str, ...]) -> dict:
        return dict(
            max_tokens=gen.max_tokens,
            temperature=gen.temperature,
            top_p=gen.top_p,
            stop=list(stop) or None,
            seed=gen.seed,
            grammar=self._grammar(gen.grammar),
        )

    def _grammar(self, text: str | None):
        if text is None:
            return None
        if text not in self._grammars:
            from llama_cpp import LlamaGrammar

            self._check_grammar(text)
            self._grammars[text] = LlamaGrammar.from_string(text, verbose=False)
        return self._grammars[text]

    def _json_grammar(self, schema: str):
        key = "json-schema:" + schema
        if key not in self._grammars:
            from llama_cpp import LlamaGrammar

            try:
                grammar = LlamaGrammar.from_json_schema(schema, verbose=False)
            except (ValueError, RuntimeError) as exc:
                raise BackendError(f"{self.spec}: cannot turn the JSON schema into a grammar: {exc}") from None
            self._check_grammar(grammar._grammar)
            self._grammars[key] = grammar
        return self._grammars[key]

    def _check_grammar(self, text: str) -> None:
        """Parse a GBNF grammar with llama.cpp itself, once. LlamaGrammar.from_string only stores the
        text, and a grammar that fails to parse would otherwise reach the sampler as a null pointer."""
        import llama_cpp

        vocab = self._generator._model.vocab  # the loaded model's vocabulary (no public accessor)
        sampler = llama_cpp.llama_sampler_init_grammar(vocab, text.encode("utf-8"), b"root")
        if not sampler:
            raise BackendError(f"{self.spec}: invalid GBNF grammar (llama.cpp could not parse it)")
        llama_cpp.llama_sampler_free(sampler)

    def _prompt_and_stops(self, messages: list[Message], gen: GenerationSettings):
        return render_transcript(messages), transcript_stops(gen.stop)

    def _check_fits(self, prompt: str, gen: GenerationSettings) -> None:
        n_prompt = len(self._generator.tokenize(prompt.encode("utf-8"), add_bos=True))
        if n_prompt + gen.max_tokens > self.n_ctx:
            raise BackendError(
                f"{self.spec}: prompt ({n_prompt} tokens) + max_tokens ({gen.max_tokens}) exceeds the "
                f"context window ({self.n_ctx}); shorten the input or raise n_ctx"
            )

    def _start(self, prompt: str, gen: GenerationSettings) -> str | list[int]:
        """The prompt to generate from, with the model's state set up for it. llama-cpp-python
        would reuse the KV cache of whatever the previous prompt shared with this one, which makes
        the logits depend on call history (different batch splits round differently). So start
        clean, or from the saved state of the declared shared prefix: same input, same output."""
        if 0 < gen.shared_prefix < len(prompt):
            return self._prefixes.prompt_tokens(prompt[: gen.shared_prefix], prompt[gen.shared_prefix :])
        self._generator.reset()
        return prompt

    def _complete_sync(self, prompt: str, gen: GenerationSettings, stop: tuple[str, ...]) -> Completion:
        self._check_fits(prompt, gen)
        start = time.perf_counter()
        out = self._generator.create_completion(self._start(prompt, gen), **self._completion_kwargs(gen, stop))
        choice, usage = out["choices"][0], out.get("usage", {})
        return Completion(
            text=choice["text"],
            finish_reason=choice.get("finish_reason"),
            usage=Usage(
                prompt_tokens=usage.get("prompt_tokens", 0),
                completion_tokens=usage.get("completion_tokens", 0),
                wall_s=time.perf_counter() - start,
            ),
        )

    def _chat_sync(self, messages: list[Message], gen: GenerationSettings) -> Completion:
        if not self._chat_tuned:
            prompt, stops = self._prompt_and_stops(messages, gen)
            done = self._complete_sync(prompt, gen, stops)
            return done.model_copy(update={"text": done.text.strip()})
        start = time.perf_counter()
        self._generator.reset()
        kwargs = self._completion_kwargs(gen, gen.stop)
        if gen.json_schema:
            kwargs["grammar"] = self._json_grammar(gen.json_schema)
        out = self._generator.create_chat_completion([m.model_dump() for m in messages], **kwargs)
        choice, usage = out["choices"][0], out.get("usage", {})
        return Completion(
            text=choice["message"]["content"] or "",
            finish_reason=choice.get("finish_reason"),
            usage=Usage(
                prompt_tokens=usage.get("prompt_tokens", 0),
                completion_tokens=usage.get("completion_tokens", 0),
                wall_s=time.perf_counter() - start,
            ),
        )

    async def complete(self, prompt: str, gen: GenerationSettings) -> Completion:
        return await run_locked(self._lock, lambda: self._complete_sync(prompt, gen, gen.stop))

    async def chat(self, messages: list[Message], gen: GenerationSettings) -> Completion:
        return await run_locked(self._lock, lambda: self._chat_sync(messages, gen))

    def _stream_sync(self, messages: list[Message], gen: GenerationSettings) -> Iterator[str]:
        self._generator.reset()
        if self._chat_tuned:
            chunks = self._generator.create_chat_completion(
                [m.model_dump() for m in messages], stream=True, **self._completion_kwargs(gen, gen.stop)
            )
            for chunk in chunks:
                piece = chunk["choices"][0]["delta"].get("content")
                if piece:
                    yield piece
            return
        prompt, stops = self._prompt_and_stops(messages, gen)
        self._check_fits(prompt, gen)
        first = True
        for chunk in self._generator.create_completion(prompt, stream=True, **self._completion_kwargs(gen, stops)):
            piece = chunk["choices"][0]["text"]
            if first:  # the transcript ends with "Assistant:"; drop the space the model adds
                piece = piece.lstrip()
                first = not piece
            if piece:
                yield piece

    async def stream_chat(self, messages: list[Message], gen: GenerationSettings) -> AsyncIterator[str]:
        async for piece in stream_locked(self._lock, lambda: self._stream_sync(messages, gen)):
            yield piece

    # -- scoring ----------------------------------------------------------------------------
    def _loglikelihood_sync(self, context: str, continuations: list[str]) -> list[float]:
        if self._scorer is None:
            self._scorer = self._load(logits_all=True)
        llm = self._scorer
        ctx, conts = split_for_scoring(lambda t: llm.tokenize(t.encode("utf-8"), add_bos=True), context, continuations)
        longest = len(ctx) + max(len(c) for c in conts)
        if longest > self.n_ctx:
            raise BackendError(f"{self.spec}: scoring input of {longest} tokens exceeds n_ctx {self.n_ctx}")
        # The shared context is evaluated once, asking llama.cpp for the logits of its last position
        # only: with a 262k vocabulary the output layer over every context position cost more than
        # the rest of the model (EmpTest perceive items: 1.9 -> 3.4 items/s). Each continuation then
        # reuses the context's KV cache and needs logits for all but its own last token.
        # `_logits_all` is llama-cpp-python's per-handle switch that eval() reads (pinned 0.3.36).
        llm.reset()
        llm._logits_all = False
        try:
            llm.eval(ctx)
            last = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(llm.n_vocab(),)).copy()
        finally:
            llm._logits_all = True
        results: list[float] = []
        for cont in conts:
            llm.n_tokens = len(ctx)  # eval() drops KV entries past n_tokens before appending
            rows = [last[None, :]]
            if len(cont) > 1:
                llm.eval(cont[:-1])
                rows.append(np.asarray(llm.scores[len(ctx) : len(ctx) + len(cont) - 1]))
            results.append(float(token_logprobs(np.concatenate(rows), cont).sum()))
        return results

    async def loglikelihood(self, context: str, continuations: list[str]) -> list[float]:
        if not continuations:
            return []
        return await run_locked(self._lock, lambda: self._loglikelihood_sync(context, continuations))

    async def aclose(self) -> None:
        # on the model thread, under the lock: freeing a model while a call is still decoding on
        # that thread (an interrupted run closing its runtimes) would crash the process
        def close() -> None:
            for llm in (self._generator, self._scorer):
                if llm is not None:
                    llm.close()

        await asyncio.shield(run_locked(self._lock, close))
