"""Run the `empllm` command in this process (typer's CliRunner), as the installed script would:
an EmpLLMError becomes one `empllm: error:` line on stderr and its exit code (what `cli.main` does).
No interpreter start-up and no re-import per call, so CLI tests that need no separate process
(no model server, no kill, no second interpreter) run in a fraction of the time."""

from __future__ import annotations

import subprocess

from typer.testing import CliRunner

from empllm import cli_common
from empllm.cli import app
from empllm.errors import EmpLLMError


def run_empllm(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    vars(cli_common.state).clear()  # per-invocation state (--quiet, --config), as in a fresh process
    result = CliRunner().invoke(app, list(args), env=env)
    stderr, code = result.stderr, result.exit_code
    if isinstance(result.exception, EmpLLMError):
        stderr, code = stderr + f"empllm: error: {result.exception}\n", result.exception.exit_code
    elif result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return subprocess.CompletedProcess(["empllm", *args], code, result.stdout, stderr)
