import pytest

from empllm.errors import EmpLLMError
from empllm.settings import DEFAULT_MODEL, load_settings


def test_precedence_flags_over_file_over_env_over_defaults(tmp_path, monkeypatch):
    monkeypatch.delenv("EMPLLM_CONFIG", raising=False)
    assert load_settings().model == DEFAULT_MODEL
    monkeypatch.setenv("EMPLLM_MAX_CONCURRENCY", "7")
    monkeypatch.setenv("EMPLLM_RETRIES", "5")
    assert load_settings().max_concurrency == 7
    cfg = tmp_path / "c.yaml"
    cfg.write_text("max_concurrency: 9\nmodel: openai:m\n")
    s = load_settings(cfg)
    assert (s.max_concurrency, s.retries, s.model) == (9, 5, "openai:m")
    s = load_settings(cfg, model="scripted:x.yaml", max_concurrency=None)
    assert (s.model, s.max_concurrency) == ("scripted:x.yaml", 9)


def test_bad_values_are_one_line_errors(tmp_path, monkeypatch):
    monkeypatch.delenv("EMPLLM_CONFIG", raising=False)
    cfg = tmp_path / "c.yaml"
    cfg.write_text("retries: lots\n")
    with pytest.raises(EmpLLMError, match="retries") as info:
        load_settings(cfg)
    assert "\n" not in str(info.value)
    cfg.write_text("no_such_setting: 1\n")
    with pytest.raises(EmpLLMError, match="no_such_setting"):
        load_settings(cfg)
