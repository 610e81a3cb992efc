import pytest

from empllm.backends.registry import create_backend, describe_backends, parse_spec
from empllm.backends.scripted import ScriptedBackend
from empllm.errors import BackendUnavailable, SpecError


def test_parse_each_kind():
    assert parse_spec("llamacpp:gemma-3-270m").kind == "llamacpp"
    assert parse_spec("openai:gpt-4o-mini").target == "gpt-4o-mini"
    spec = parse_spec("hf:/models/base+/runs/adapter")
    assert (spec.kind, spec.target, spec.adapter) == ("hf", "/models/base", "/runs/adapter")
    assert str(spec) == "hf:/models/base+/runs/adapter"
    assert parse_spec("scripted:replies.yaml").target == "replies.yaml"


@pytest.mark.parametrize("bad", ["gemma", "llamacpp:", "nosuch:model", "hf:+adapter", ":x"])
def test_bad_specs_say_what_was_expected(bad):
    with pytest.raises(SpecError) as info:
        parse_spec(bad)
    assert bad in str(info.value)


def test_missing_gguf_is_a_clear_error(tmp_path, settings):
    with pytest.raises(BackendUnavailable, match="does not exist"):
        create_backend(f"llamacpp:{tmp_path}/nope.gguf", settings)


def test_non_gguf_llamacpp_target_is_rejected(settings):
    with pytest.raises(SpecError, match="gguf"):
        create_backend("llamacpp:some-other-model", settings)


def test_missing_adapter_folder_is_rejected(tmp_path, settings):
    (tmp_path / "base").mkdir()
    with pytest.raises(BackendUnavailable, match="adapter"):
        create_backend(f"hf:{tmp_path}/base+{tmp_path}/no-adapter", settings)


def test_scripted_spec_builds_scripted_backend(write_script, settings):
    path = write_script("replies: [hi]")
    backend = create_backend(f"scripted:{path}", settings)
    assert isinstance(backend, ScriptedBackend)


def test_describe_backends_lists_every_kind(settings):
    kinds = {row.kind for row in describe_backends(settings)}
    assert kinds == {"llamacpp", "openai", "hf", "scripted"}
