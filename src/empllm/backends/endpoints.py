"""Where each `openai:` model is served, so every model of one command can sit on its own server.

A spec names its server inline, `openai:MODEL@http://127.0.0.1:8001/v1`, or by an endpoint name
from a models file (`--models-file FILE`, `models_file:` in --config, or EMPLLM_MODELS_FILE):

    endpoints:
      simulator:                        # used as openai:simulator
        model: Qwen/Qwen2.5-7B-Instruct # the name the server knows (default: the endpoint name)
        base_url: http://10.0.0.5:8000/v1
        api_key_env: SIMULATOR_KEY      # the environment variable that holds its key
        structured_output: true         # send response_format with a JSON schema (default true)
      fleet:                            # one model on several servers (replica_pool.py)
        model: Qwen/Qwen2.5-7B-Instruct
        base_urls: [http://10.0.0.6:8000/v1, http://10.0.0.7:8000/v1]

Inline, several servers are comma-separated: `openai:MODEL@http://a:8000/v1,http://b:8000/v1`.

A bare `openai:MODEL` goes to --base-url, OPENAI_BASE_URL, or api.openai.com. Keys are read from
the environment when the backend is made and kept only inside its HTTP client: never in a spec,
a cache key, a log or run.json. That is why a URL with user:password@ in a spec is refused.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from empllm.errors import SpecError, first_problem

_INLINE = re.compile(r"^(?P<model>.+?)@(?P<url>https?://\S+)$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class Endpoint(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str | None = None
    base_url: str | None = None
    base_urls: list[str] | None = Field(default=None, min_length=1)  # replicas of one model
    api_key_env: str | None = Field(default=None, pattern=_ENV_NAME.pattern)
    structured_output: bool = True

    @model_validator(mode="after")
    def _one_kind_of_url(self) -> Endpoint:
        if (self.base_url is None) == (self.base_urls is None):
            raise ValueError("give base_url (one server) or base_urls (replicas), not both or neither")
        return self

    def urls(self) -> list[str]:
        return self.base_urls or [self.base_url]

    def api_key(self) -> str | None:
        return os.environ.get(self.api_key_env) if self.api_key_env else None


class ModelsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    endpoints: dict[str, Endpoint] = Field(default_factory=dict)


def split_inline(target: str) -> tuple[str, list[str] | None]:
    """`MODEL@URL[,URL...]` -> (MODEL, URLs); a target without a URL -> (target, None)."""
    match = _INLINE.match(target)
    if not match:
        return target, None
    urls = [url.strip() for url in match["url"].split(",") if url.strip()]
    for url in urls:
        if not url.startswith(("http://", "https://")):
            raise SpecError(f"openai:{match['model']}@...: {url!r} is not an http(s) URL")
        if "@" in url.split("//", 1)[1].split("/", 1)[0]:
            raise SpecError(f"openai:{match['model']}@...: credentials in a URL would be recorded with the spec; "
                            "name the key's environment variable in a models file (api_key_env) instead")  # fmt: skip
    return match["model"], urls


def load_models_file(path: Path) -> ModelsFile:
    from empllm.errors import EmpLLMError
    from empllm.yaml_io import parse_yaml

    if not path.is_file():
        raise EmpLLMError(f"models file {path} does not exist")
    data = parse_yaml(path.read_text(encoding="utf-8"), f"models file {path}")
    try:
        return ModelsFile.model_validate(data or {})
    except ValidationError as exc:
        where, message = first_problem(exc)
        raise EmpLLMError(f"models file {path}: {where}: {message}") from None


def resolve_endpoint(target: str, models_file: Path | None, default_url: str | None) -> tuple[str, Endpoint]:
    """The model name to send and the endpoint for an `openai:` target."""
    model, urls = split_inline(target)
    if urls is not None:
        return model, Endpoint(base_url=urls[0]) if len(urls) == 1 else Endpoint(base_urls=urls)
    if models_file is not None:
        named = load_models_file(models_file).endpoints.get(target)
        if named is not None:
            return named.model or target, named
    url = default_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"
    return target, Endpoint(base_url=url, api_key_env="OPENAI_API_KEY")
