"""verl's SFT trainer, really run: two CPU ranks train a tiny random Qwen3 on a curated parquet with the
overrides `curate train` writes, then verl's model merger turns the sharded checkpoint into a Hugging Face
model. See verl_cpu.py for the (small, CPU-only) differences from a GPU launch."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
import torch

from curate.train.plan import Request, build_plan, training_chat_template
from tests.curate.train.handoff import curate_output

pytest.importorskip("verl.trainer.sft_trainer")

# Only what a CPU needs (verl_cpu.py says why); everything else is the generated launch.
CPU = [
    "trainer.device=cpu",
    "engine.strategy=fsdp2",
    "engine.use_torch_compile=false",
    "+model.override_config.attn_implementation=sdpa",
    "data.num_workers=0",
]


@pytest.mark.slow
def test_verl_trains_and_merges_on_cpu(tmp_path: Path, tiny_model: Path) -> None:
    out = curate_output(tmp_path, sample="{size: 16, test_size: 4}")
    ckpt = tmp_path / "ckpt"
    plan = build_plan(
        Request(out, model=str(tiny_model), gpus_per_node=2, batch_size=4, epochs=2, lr=1e-3, ckpt_dir=ckpt)
    )
    assert (plan.steps_per_epoch, plan.total_steps) == (4, 8)
    metrics = tmp_path / "metrics.jsonl"
    env = {**os.environ, "VERL_FILE_LOGGER_PATH": str(metrics), "OMP_NUM_THREADS": "1"}
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
        str(Path(__file__).with_name("verl_cpu.py")), *plan.hydra_overrides(), *CPU,
    ]  # fmt: skip
    result = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    steps = [json.loads(line) for line in metrics.read_text().splitlines()]
    train_steps = [s for s in steps if "train/loss" in s["data"]]
    assert [s["step"] for s in train_steps] == list(range(1, 9))
    # each epoch trains every row once, and each row as exactly the tokens curate counted
    rows = pl.read_parquet(out / "train.parquet")
    per_epoch = [sum(s["data"]["train/global_tokens"] for s in train_steps[i : i + 4]) for i in (0, 4)]
    assert per_epoch == [rows["num_tokens"].sum()] * 2
    losses = [s["data"]["train/loss"] for s in train_steps]
    assert all(0 < loss < 20 for loss in losses) and losses[-1] < losses[0]
    assert any("val/loss" in s["data"] for s in steps)  # test.parquet (4 rows) validates each epoch

    for step in (4, 8):  # trainer.save_freq=after_each_epoch, and the last step
        assert (ckpt / f"global_step_{step}" / "huggingface" / "model.safetensors").exists()
    merge = shlex.split(plan.merge_command())
    assert merge[:3] == ["python", "-m", "verl.model_merger"]
    merged = subprocess.run([sys.executable, *merge[1:]], cwd=tmp_path, capture_output=True, text=True)
    assert merged.returncode == 0, merged.stderr[-3000:]

    from transformers import AutoModelForCausalLM, AutoTokenizer

    target = ckpt / "merged" / "global_step_8"
    model = AutoModelForCausalLM.from_pretrained(target)
    saved = AutoModelForCausalLM.from_pretrained(ckpt / "global_step_8" / "huggingface")
    start = AutoModelForCausalLM.from_pretrained(tiny_model)
    weights, reference, initial = model.state_dict(), saved.state_dict(), start.state_dict()
    assert all(torch.equal(weights[k], reference[k]) for k in reference)
    assert any(not torch.allclose(weights[k].float(), initial[k].float()) for k in initial)
    assert AutoTokenizer.from_pretrained(target).chat_template == training_chat_template()
