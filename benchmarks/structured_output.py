"""How many of SmolLM2's JSON-style turns parse on the first try, with and without structured output.

SmolLM2 135M Instruct (the embedded chat-tuned model) is served by `python -m llama_cpp.server`,
as a user's model would be on its own server. The psychologist and the client agents of the JSON
style each answer the same contexts twice: once with `response_format` (a JSON schema, which this
server turns into a grammar), once without. A turn counts when the agent's own parser accepts its
first answer (JSON found, fields valid, a reply), with no resampling and no content checks.

    python benchmarks/structured_output.py [--n 20] [--languages en,zh] [--out FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from empllm.backends.base import GenerationSettings
from empllm.backends.embedded import embedded_gguf_path
from empllm.backends.llama_server import serve_gguf
from empllm.backends.openai_compat import OpenAIBackend
from empllm.personas.loader import builtin_personas
from empllm.runtime import Runtime
from empllm.settings import Settings
from empllm.simulate.agent_output import AgentOutputError
from empllm.simulate.client import ClientAgent
from empllm.simulate.exemplars import builtin_exemplars
from empllm.simulate.psychologist import PsychologistAgent
from empllm.types import ClientState, Turn

MODEL = "smollm2-135m-instruct"


def contexts(language: str, n: int, seed: int) -> list[tuple[object, list[Turn]]]:
    """(persona, the session so far ending on a client line): exemplar openings, then a persona's
    presenting problem as the first message, so the contexts are many and varied."""
    rng = random.Random(seed)
    personas = [p for p in builtin_personas() if p.language == language]
    rng.shuffle(personas)
    out = []
    for i in range(n):
        persona = personas[i % len(personas)]
        opening = Turn(role="client", content=persona.presenting_problem,
                       client_state=ClientState(emotion_intensity=6, trust=3))  # fmt: skip
        turns = [opening]
        examples = builtin_exemplars(language)
        if i % 2 and examples:  # half the contexts are two exchanges into a written session
            ex = examples[i % len(examples)]
            turns = [Turn(role=t.role, content=t.content, contemplation=t.contemplation,
                          client_state=ClientState(emotion_intensity=6, trust=4) if t.role == "client" else None)
                     for t in ex.turns[:3]]  # fmt: skip
        out.append((persona, turns))
    return out


async def first_try_rate(url: str, language: str, n: int, structured: bool) -> dict:
    backend = OpenAIBackend(f"openai:{MODEL}", MODEL, base_url=url, structured_output=structured, timeout_s=300)
    runtime = Runtime(backend, max_concurrency=1)
    gen = GenerationSettings(max_tokens=320, temperature=0.8, top_p=0.95)
    ok = {"psychologist": 0, "client": 0}
    why: dict[str, dict[str, int]] = {"psychologist": {}, "client": {}}
    start = time.perf_counter()
    for i, (persona, turns) in enumerate(contexts(language, n, seed=0)):
        seeded = gen.model_copy(update={"seed": i})
        psychologist = PsychologistAgent(runtime, language=language, stance="person_centred", gen=seeded,
                                         exemplars=[], attempts=1)  # fmt: skip
        client = ClientAgent(runtime, persona, gen=seeded, exemplars=[], attempts=1)
        answered = [Turn(role="psychologist", content=_reply(language))]
        agents = {"psychologist": psychologist.respond(turns, None),
                  "client": client.respond(turns + answered, can_end=False)}  # fmt: skip
        for role, answer in agents.items():
            try:
                await answer
                ok[role] += 1
            except AgentOutputError as exc:
                reason = exc.rejected[-1].split(":")[0] if exc.rejected else "no output"
                why[role][reason] = why[role].get(reason, 0) + 1
        print(f"{language} structured={structured}: {i + 1}/{n}  {ok}", flush=True)
    await runtime.aclose()
    return {"n": n, "first_try_parsed": ok, "rate": {k: round(v / n, 3) for k, v in ok.items()},
            "failures": why, "wall_s": round(time.perf_counter() - start, 1),
            "completion_tokens": runtime.usage.completion_tokens}  # fmt: skip


def _reply(language: str) -> str:
    return ("That sounds like a lot to carry. What has been the hardest part?" if language == "en"
            else "听起来你承受了很多。最难熬的是哪一部分？")  # fmt: skip


def raw_tokens_per_s(gguf: Path, max_tokens: int = 128) -> float:
    import llama_cpp

    llm = llama_cpp.Llama(model_path=str(gguf), n_ctx=1024, n_threads=os.cpu_count(), verbose=False)
    start = time.perf_counter()
    out = llm.create_completion("The counselor listened while", max_tokens=max_tokens, temperature=0.0)
    return out["usage"]["completion_tokens"] / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20, help="contexts per language and agent")
    parser.add_argument("--languages", default="en,zh")
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent.parent / "docs/benchmarks/structured_output.json"
    )
    args = parser.parse_args()
    gguf = embedded_gguf_path(Settings().cache_dir, MODEL)
    result = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "machine": platform.machine(),
              "cpus": os.cpu_count(), "model": MODEL, "server": "python -m llama_cpp.server",
              "raw_llama_cpp_tokens_per_s": round(raw_tokens_per_s(gguf), 1), "languages": {}}  # fmt: skip
    with serve_gguf(gguf, Path(tempfile.mkdtemp()) / "server.log") as url:
        for language in args.languages.split(","):
            result["languages"][language] = {
                "with_structured_output": asyncio.run(first_try_rate(url, language, args.n, True)),
                "without": asyncio.run(first_try_rate(url, language, args.n, False)),
            }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    for language, r in result["languages"].items():
        for role in ("psychologist", "client"):
            print(f"{language} {role}: first try parsed {r['with_structured_output']['rate'][role]:.0%} with "
                  f"structured output, {r['without']['rate'][role]:.0%} without (n={args.n})")  # fmt: skip
    print(f"raw llama-cpp-python: {result['raw_llama_cpp_tokens_per_s']} tok/s; wrote {args.out}")


if __name__ == "__main__":
    main()
