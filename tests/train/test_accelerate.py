"""`empllm train` under `accelerate launch` (DDP; on CPU with gloo): two processes train one model,
rank 0 alone writes the run's files and reports the loss. GPU configs (DDP, DeepSpeed ZeRO-3, FSDP)
are in configs/accelerate/ and are not run here.

accelerate's `--cpu` with several processes needs mpirun and otherwise starts one process; its
torchrun launcher (`--multi_gpu`) starts two, and on a machine without a GPU EmpLLM's trainer says
`use_cpu`, so they join over gloo. That is the real data-parallel path, minus the GPUs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


@pytest.mark.integration
def test_two_processes_train_one_adapter_and_rank_0_alone_reports(sft_run, tmp_path):
    root, _, env = sft_run  # its exported data and its model cache (the dequantized base is reused)
    out = tmp_path / "ddp"
    args = [str(BIN / "accelerate"), "launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
            "--mixed_precision", "no", "--dynamo_backend", "no", str(BIN / "empllm"), "train", str(root / "data"),
            "--out", str(out), "--max-steps", "2", "--batch-size", "1", "--max-length", "128"]  # fmt: skip
    done = subprocess.run(args, env={**env, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads((out / "train_summary.json").read_text())
    assert (summary["processes"], summary["steps"]) == (2, 2)
    assert (out / "adapter_model.safetensors").is_file() and (out / "loss.png").is_file()
    assert done.stderr.count("trained 2 steps") == 1, done.stderr[-3000:]  # the loss line: rank 0 only
    assert not list(out.glob("*.tmp")) and not list(out.glob("*.partial"))
