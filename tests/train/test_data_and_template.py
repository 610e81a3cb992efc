import json

import pytest

from empllm.errors import EmpLLMError
from empllm.train.chat_template import GEMMA_TURN_TEMPLATE, ensure_chat_template
from empllm.train.data import load_training_data

ROW = {"messages": [
    {"role": "user", "content": "I can't sleep."},
    {"role": "assistant", "content": "<think>\nemotion: anxiety\n</think>\n\nThat sounds exhausting."},
    {"role": "user", "content": "Yes."},
    {"role": "assistant", "content": "What keeps you up?", "reasoning": "emotion: fear"},
]}  # fmt: skip


def write(tmp_path, rows, name="d.jsonl"):
    path = tmp_path / name
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_think_keeps_and_drop_strips_the_contemplation(tmp_path):
    path = write(tmp_path, [ROW])
    think = load_training_data(path, "think")["train"][0]["messages"]
    assert (
        think[1]["content"].startswith("<think>\nemotion: anxiety\n</think>") and "That sounds" in think[1]["content"]
    )
    assert think[3]["content"] == "<think>\nemotion: fear\n</think>\n\nWhat keeps you up?"  # reasoning field rendered
    drop = load_training_data(path, "drop")["train"][0]["messages"]
    assert drop[1]["content"] == "That sounds exhausting." and drop[3] == {
        "role": "assistant",
        "content": "What keeps you up?",
    }


@pytest.mark.parametrize(
    "rows,fragment",
    [([], "no training conversations"), ([{"text": "hi"}], "OpenAI fine-tuning format"),
     ([{"messages": [{"role": "user", "content": "hi"}]}], "no assistant message"),
     ([{"messages": [{"role": "robot", "content": "hi"}]}], "role system/user/assistant")],
)  # fmt: skip
def test_bad_data_is_a_clear_error(tmp_path, rows, fragment):
    with pytest.raises(EmpLLMError, match=fragment):
        load_training_data(write(tmp_path, rows), "think")


def test_not_json_and_missing_folder(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{nope\n")
    with pytest.raises(EmpLLMError, match="line 1: not valid JSON"):
        load_training_data(bad, "think")
    with pytest.raises(EmpLLMError, match="export"):
        load_training_data(tmp_path, "think")


def test_gemma_template_marks_only_assistant_text_for_training():
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    raw = Tokenizer(models.WordLevel({"[UNK]": 0, "<bos>": 1}, unk_token="[UNK]"))
    raw.pre_tokenizer = pre_tokenizers.Whitespace()
    tok = PreTrainedTokenizerFast(tokenizer_object=raw, bos_token="<bos>", unk_token="[UNK]")
    assert ensure_chat_template(tok) and tok.chat_template == GEMMA_TURN_TEMPLATE
    assert not ensure_chat_template(tok)  # an existing template is kept
    msgs = [{"role": "system", "content": "Be kind."}, {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "hello"}]  # fmt: skip
    text = tok.apply_chat_template(msgs, tokenize=False)
    assert text == "<bos><start_of_turn>user\nBe kind.\n\nhi<end_of_turn>\n<start_of_turn>model\nhello<end_of_turn>\n"
    out = tok.apply_chat_template(msgs, tokenize=True, return_dict=True, return_assistant_tokens_mask=True)
    assert any(out["assistant_masks"]) and not all(out["assistant_masks"])


def test_config_hash_counts_what_the_weights_depend_on_only():
    from empllm.train.sft import TrainConfig

    base = TrainConfig()
    assert TrainConfig(gradient_checkpointing=True, report_to=["tensorboard"]).hash() == base.hash()
    assert TrainConfig(target_modules=["all-linear"]).hash() != base.hash()
    assert TrainConfig(qlora=True).hash() != base.hash()  # a 4-bit base trains other weights


def test_empty_target_modules_is_a_clear_error(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    empllm = str(Path(sys.executable).parent / "empllm")
    out = subprocess.run([empllm, "train", str(tmp_path), "--out", str(tmp_path / "o"), "--target-modules", " , "],
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert out.returncode != 0 and "--target-modules" in out.stderr and "Traceback" not in out.stderr


def test_qlora_without_cuda_is_one_clear_error_and_writes_nothing(tmp_path):
    from ..cli_in_process import run_empllm

    data = tmp_path / "data"
    data.mkdir()
    (data / "train.jsonl").write_text('{"messages": [{"role": "user", "content": "hi"}, '
                                      '{"role": "assistant", "content": "hello"}]}\n')  # fmt: skip
    done = run_empllm("train", str(data), "--out", str(tmp_path / "out"), "--qlora")
    assert done.returncode != 0 and "--qlora needs a CUDA GPU" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and not (tmp_path / "out").exists()
