"""One model served by several OpenAI-compatible servers (vLLM replicas, `--data-parallel-size`
behind separate ports): `base_urls` in a models file, or `openai:MODEL@URL1,URL2`.

Each request goes to the server with the fewest requests in flight. A server that cannot be reached,
times out or answers 5xx / 429 is taken out of rotation for a backoff (1 s, doubling to 60 s) and
the request moves on to the next server at once; after its backoff a server gets requests again and
is back for good on its first success. When every server is out, the one whose backoff ends first
is tried, so a full outage behaves like one server (the runtime's retries apply). The cache
identity is the model's, not a server's: any replica's answer serves them all.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator

from empllm.backends.base import Capabilities, Completion, GenerationSettings
from empllm.errors import BackendError
from empllm.types import Message

log = logging.getLogger(__name__)
BACKOFF_S = (1.0, 60.0)  # first, longest


class ReplicaPool:
    def __init__(self, spec: str, replicas: list, *, backoff_s: tuple[float, float] = BACKOFF_S, clock=time.monotonic):
        if not replicas:
            raise ValueError("a replica pool needs at least one server")
        self.spec = spec
        self.replicas = replicas
        self.in_flight = [0] * len(replicas)
        self.served = [0] * len(replicas)  # answers per server (for the run's usage report and tests)
        self._down_until = [0.0] * len(replicas)
        self._backoff = [0.0] * len(replicas)
        self._first_backoff, self._max_backoff = backoff_s
        self._clock = clock

    @property
    def capabilities(self) -> Capabilities:
        return self.replicas[0].capabilities  # the same model and server software behind every URL

    def _pick(self, tried: set[int]) -> int | None:
        now = self._clock()
        left = [i for i in range(len(self.replicas)) if i not in tried]
        if not left:
            return None
        up = [i for i in left if self._down_until[i] <= now]
        if up:
            return min(up, key=lambda i: (self.in_flight[i], self.served[i]))
        return min(left, key=lambda i: self._down_until[i])

    def _failed(self, index: int, exc: BackendError) -> None:
        self._backoff[index] = min(self._max_backoff, max(self._first_backoff, 2 * self._backoff[index]))
        self._down_until[index] = self._clock() + self._backoff[index]
        log.warning("%s: %s out of rotation for %.0f s (%s)", self.spec, self.replicas[index].public_base_url,
                    self._backoff[index], exc)  # fmt: skip

    def _succeeded(self, index: int) -> None:
        self._backoff[index] = self._down_until[index] = 0.0
        self.served[index] += 1

    async def _call(self, method: str, *args):
        tried: set[int] = set()
        while (index := self._pick(tried)) is not None:
            tried.add(index)
            self.in_flight[index] += 1
            try:
                result = await getattr(self.replicas[index], method)(*args)
            except BackendError as exc:
                if not exc.retryable:
                    raise  # the request's fault (a 400): another server would refuse it too
                self._failed(index, exc)
                last = exc
                continue
            finally:
                self.in_flight[index] -= 1
            self._succeeded(index)
            return result
        raise BackendError(f"{self.spec}: none of its {len(self.replicas)} servers answered ({last})", retryable=True)

    async def chat(self, messages: list[Message], gen: GenerationSettings) -> Completion:
        return await self._call("chat", messages, gen)

    async def complete(self, prompt: str, gen: GenerationSettings) -> Completion:
        return await self._call("complete", prompt, gen)

    async def loglikelihood(self, context: str, continuations: list[str]) -> list[float]:
        return await self._call("loglikelihood", context, continuations)

    async def stream_chat(self, messages: list[Message], gen: GenerationSettings) -> AsyncIterator[str]:
        # a stream is not moved once it has begun: its server is chosen like any request
        index = self._pick(set())
        self.in_flight[index] += 1
        try:
            async for piece in self.replicas[index].stream_chat(messages, gen):
                yield piece
        except BackendError as exc:
            if exc.retryable:
                self._failed(index, exc)
            raise
        finally:
            self.in_flight[index] -= 1
        self._succeeded(index)

    async def aclose(self) -> None:
        for replica in self.replicas:
            await replica.aclose()
