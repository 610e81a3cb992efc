"""A backend from another package: installed (a dist-info with an entry point under
`empllm.backends`), it is parsed, built, listed by `empllm models` and used through the CLI, and it
states in its Capabilities what callers once guessed from spec strings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from empllm.backends import registry
from empllm.errors import SpecError

from ..plugin_package import install_plugin

EMPLLM = str(Path(sys.executable).parent / "empllm")
PLUGIN = '''
from empllm.backends.base import Capabilities, Completion
from empllm.backends.kind import BackendInfo, BackendKind


class EchoBackend:
    """Replies with the last message, upper-cased (a stand-in for any model API)."""

    def __init__(self, spec):
        self.spec = spec
        self.capabilities = Capabilities(chat_tuned=True, prompt_logprobs=False, cacheable=False,
                                         cache_identity="echo-v1", agent_style="structured")

    async def chat(self, messages, gen):
        return Completion(text=messages[-1].content.upper())

    async def complete(self, prompt, gen):
        return Completion(text=prompt.upper())

    async def aclose(self):
        pass


class EchoKind(BackendKind):
    """echo:NAME, a model that shouts back"""

    name = "echo"

    def create(self, parsed, settings, base_url):
        return EchoBackend(str(parsed))

    def describe(self, settings):
        return [BackendInfo(self.name, "echo:NAME", True, "shouts back (a plugin)")]
'''


@pytest.fixture
def echo_plugin(tmp_path, monkeypatch):
    return install_plugin(tmp_path / "site", "empllm_echo", PLUGIN, registry.ENTRY_POINT_GROUP,
                          {"echo": "empllm_echo:EchoKind"}, monkeypatch)  # fmt: skip


def test_an_installed_kind_is_parsed_built_and_listed(echo_plugin, settings):
    assert registry.parse_spec("echo:loud").kind == "echo"
    backend = registry.create_backend("echo:loud", settings)
    assert backend.spec == "echo:loud" and not backend.capabilities.cacheable
    assert any(row.example == "echo:NAME" and row.usable for row in registry.describe_backends(settings))


def test_without_the_package_the_kind_is_unknown():
    with pytest.raises(SpecError, match="unknown backend 'echo'"):
        registry.parse_spec("echo:loud")


def test_the_cli_uses_a_plugin_backend(echo_plugin, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(echo_plugin), "EMPLLM_CACHE_DIR": str(tmp_path / "cache")}
    out = subprocess.run([EMPLLM, "generate", "--model", "echo:loud", "--chat", "hello there"],
                         capture_output=True, text=True, env=env, timeout=120)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "HELLO THERE" in out.stdout
    models = subprocess.run([EMPLLM, "models"], capture_output=True, text=True, env=env, timeout=120)
    assert "echo:NAME" in models.stdout and "shouts back" in models.stdout


async def test_the_runtime_and_agent_read_capabilities_not_spec_strings(echo_plugin, settings):
    from empllm.agent import EmpatheticAgent
    from empllm.runtime import CompletionCache, Runtime

    backend = registry.create_backend("echo:loud", settings)
    runtime = Runtime(backend, cache=CompletionCache(settings.cache_dir / "plugin-test"))
    assert runtime.cache is None  # it said it is not cacheable
    assert runtime._identity()["files"] == "echo-v1"
    assert EmpatheticAgent(runtime, language="en")._style("auto") == "structured"
