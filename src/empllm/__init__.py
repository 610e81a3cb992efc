"""EmpLLM: make language models empathetic through psychologist simulation."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("empllm")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"
