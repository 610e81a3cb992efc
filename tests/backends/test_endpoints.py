"""Each model on its own server: inline endpoints, a models file, and keys that stay out of records."""

import json

import pytest

from empllm.backends.endpoints import resolve_endpoint, split_inline
from empllm.backends.registry import create_backend, parse_spec
from empllm.errors import EmpLLMError, SpecError
from empllm.runtime import Runtime
from empllm.settings import Settings


def models_file(tmp_path, text: str):
    path = tmp_path / "models.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_inline_endpoint_names_model_and_server():
    assert split_inline("Qwen/Qwen3-8B@http://10.0.0.5:8001/v1") == ("Qwen/Qwen3-8B", ["http://10.0.0.5:8001/v1"])
    assert split_inline("gpt-4o-mini") == ("gpt-4o-mini", None)
    assert split_inline("model@latest") == ("model@latest", None)  # an @ without a URL is part of the name


def test_credentials_in_an_inline_url_are_refused_before_anything_records_them():
    with pytest.raises(SpecError, match="api_key_env"):
        parse_spec("openai:m@http://user:secret@127.0.0.1:8001/v1")


def test_models_file_endpoint_with_key_from_its_variable(tmp_path, monkeypatch):
    path = models_file(
        tmp_path,
        """
endpoints:
  judge:
    model: Qwen/Qwen2.5-7B-Instruct
    base_url: http://127.0.0.1:8002/v1
    api_key_env: JUDGE_KEY
    structured_output: false
  sim: {base_url: "http://127.0.0.1:8001/v1"}
""",
    )
    monkeypatch.setenv("JUDGE_KEY", "sk-judge-secret")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-secret")
    model, endpoint = resolve_endpoint("judge", path, None)
    assert (model, endpoint.base_url, endpoint.api_key(), endpoint.structured_output) == (
        "Qwen/Qwen2.5-7B-Instruct",
        "http://127.0.0.1:8002/v1",
        "sk-judge-secret",
        False,
    )
    model, endpoint = resolve_endpoint("sim", path, None)
    assert (model, endpoint.api_key()) == ("sim", None)  # another server never gets OPENAI_API_KEY
    # not in the file: the command's --base-url, with the OpenAI key
    model, endpoint = resolve_endpoint("other", path, "http://127.0.0.1:9000/v1")
    assert (model, endpoint.base_url, endpoint.api_key()) == ("other", "http://127.0.0.1:9000/v1", "sk-openai-secret")


def test_two_specs_in_one_command_reach_two_servers_and_keys_stay_out(tmp_path, monkeypatch):
    path = models_file(tmp_path, "endpoints:\n  judge: {base_url: 'http://127.0.0.1:8002/v1', api_key_env: JK}\n")
    monkeypatch.setenv("JK", "sk-judge-secret")
    settings = Settings(models_file=path, cache_dir=tmp_path / "cache")
    sim = create_backend("openai:smol@http://127.0.0.1:8001/v1", settings)
    judge = create_backend("openai:judge", settings)
    assert (sim.base_url, sim.model) == ("http://127.0.0.1:8001/v1", "smol")
    assert (judge.base_url, judge.model) == ("http://127.0.0.1:8002/v1", "judge")
    assert judge._client.api_key == "sk-judge-secret" and sim._client.api_key == "not-needed"
    for backend in (sim, judge):
        identity = json.dumps(Runtime(backend)._identity())
        assert "sk-judge-secret" not in identity
    assert sim.capabilities.structured_output is True


@pytest.mark.parametrize(
    ("text", "message"),
    [("endpoints: [", "not valid YAML"), ("endpoints:\n  x: {model: m}\n", "base_url"),
     ("endpoints:\n  x: {base_url: u, api_key_env: 'sk-123 abc'}\n", "api_key_env"),
     ("endpoints:\n  x: {base_url: u, api_key: sk-123}\n", "api_key")],
)  # fmt: skip
def test_a_broken_models_file_is_one_line(tmp_path, text, message):
    with pytest.raises(EmpLLMError, match=message) as err:
        resolve_endpoint("x", models_file(tmp_path, text), None)
    assert "\n" not in str(err.value) and "sk-123" not in str(err.value)


def test_missing_models_file_is_one_line(tmp_path):
    with pytest.raises(EmpLLMError, match="does not exist"):
        resolve_endpoint("x", tmp_path / "nope.yaml", None)


def test_models_lists_each_endpoint_and_whether_it_answers(tmp_path, monkeypatch):
    from empllm.backends.llama_server import free_port
    from empllm.backends.registry import describe_backends

    path = models_file(tmp_path, f"endpoints:\n  judge: {{base_url: 'http://127.0.0.1:{free_port()}/v1', "
                                 "api_key_env: JK, model: big-judge}\n")  # fmt: skip
    monkeypatch.setenv("JK", "sk-judge-secret")
    rows = [r for r in describe_backends(Settings(models_file=path, cache_dir=tmp_path)) if r.example == "openai:judge"]
    assert len(rows) == 1 and not rows[0].usable and "big-judge" in rows[0].why and "did not answer" in rows[0].why
    assert "sk-judge-secret" not in rows[0].why
