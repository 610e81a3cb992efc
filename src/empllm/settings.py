"""Settings: CLI flags > config file (YAML) > EMPLLM_* environment variables > defaults."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_cache_dir
from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

DEFAULT_MODEL = "llamacpp:gemma-3-270m"

# The YAML file chosen with --config for the Settings being built (pydantic-settings asks the class
# for its sources, so the path is handed over here rather than through the constructor).
_config_file_in_use: str | None = None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EMPLLM_", extra="forbid")

    model: str = DEFAULT_MODEL
    cache_dir: Path = Field(default_factory=lambda: Path(user_cache_dir("empllm")))
    # OpenAI-compatible servers; the standard OPENAI_* variables are read by the backend too.
    base_url: str | None = None
    # Named endpoints, one server and key variable per model (backends/endpoints.py).
    models_file: Path | None = None
    max_concurrency: int = Field(default=4, ge=1)
    retries: int = Field(default=3, ge=0, description="extra attempts after a retryable failure")
    request_timeout_s: float = Field(default=120.0, gt=0)
    use_cache: bool = True
    n_ctx: int = Field(default=4096, ge=256, description="context window for llama.cpp models")
    n_threads: int | None = None
    # The crisis detector's Gemma reader (safety/reader.py) beside its n-gram classifier.
    safety_reader: bool = True

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings]
        config_file = _config_file_in_use or os.environ.get("EMPLLM_CONFIG")
        if config_file:
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=config_file))
        sources.append(env_settings)
        return tuple(sources)


def load_settings(config_file: Path | None = None, **overrides) -> Settings:
    """Build settings; `overrides` are CLI flags (None means 'not given')."""
    global _config_file_in_use
    from empllm.errors import EmpLLMError

    path = config_file or (Path(os.environ["EMPLLM_CONFIG"]) if "EMPLLM_CONFIG" in os.environ else None)
    if path is not None and not path.is_file():
        raise EmpLLMError(f"config file {path} does not exist")
    given = {k: v for k, v in overrides.items() if v is not None}
    _config_file_in_use = str(path) if path else None
    try:
        return Settings(**given)
    except Exception as exc:  # pydantic ValidationError or YAML error: one line for the user
        where = f"config file {path}" if path else "EMPLLM_* environment variables"
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        detail = " ".join(lines[1:3]) if len(lines) > 1 else str(exc)
        raise EmpLLMError(f"invalid settings (flags, {where}): {detail}") from None
    finally:
        _config_file_in_use = None
