"""POST a JSON body and read a JSON answer, over aiohttp: the hot path of the OpenAI-compatible backend.

At a few hundred requests in flight the openai SDK over httpx cost about 1.5 ms of CPU a call (its
connection pool is scanned per request, and every response is built into typed models), which made
one core the limit of a simulation against a server fleet. The same calls over aiohttp cost about a
quarter of that (benchmarks/simulation_throughput.py; docs/performance.md).

A session belongs to the event loop it was made in, so one is kept per running loop."""

from __future__ import annotations

import asyncio
import json

MAX_CONNECTIONS = 1024  # per poster; more requests in flight than this wait for a free connection


class PostError(Exception):
    """A request that got no usable JSON answer."""


class PostTimeout(PostError):
    pass


class PostConnectionError(PostError):
    pass


class PostStatusError(PostError):
    def __init__(self, status: int, body: object):
        self.status, self.body = status, body  # the parsed JSON body, or its text
        super().__init__(f"HTTP {status}")


class JsonPoster:
    def __init__(self, timeout_s: float, headers: dict[str, str]):
        self.timeout_s = timeout_s
        self.headers = headers
        self._session = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _session_for_this_loop(self):
        import aiohttp

        loop = asyncio.get_running_loop()
        if self._session is None or self._loop is not loop or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=MAX_CONNECTIONS),
                timeout=aiohttp.ClientTimeout(total=self.timeout_s),
                headers=self.headers,
            )
            self._loop = loop
        return self._session

    async def post(self, url: str, body: dict) -> dict:
        import aiohttp

        session = self._session_for_this_loop()
        try:
            async with session.post(url, json=body) as resp:
                text = await resp.text()
                status = resp.status
        except TimeoutError as exc:
            raise PostTimeout("request timed out") from exc
        except aiohttp.ClientError as exc:
            raise PostConnectionError(str(exc) or type(exc).__name__) from exc
        try:
            data = json.loads(text) if text else None
        except json.JSONDecodeError:
            data = None
        if status >= 400:
            raise PostStatusError(status, data if data is not None else text)
        if not isinstance(data, dict):
            raise PostError(f"the answer is not a JSON object: {text[:200]!r}")
        return data

    async def aclose(self) -> None:
        if self._session is not None and not self._session.closed and self._loop is asyncio.get_running_loop():
            await self._session.close()
        self._session = None
