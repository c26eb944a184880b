"""The launch scripts, run by bash for real: stand-in `torchrun`, `srun` and `scontrol` executables record
what each node would start, and the recorded overrides are composed with verl's own config."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from curate.train.plan import Request, build_plan, training_chat_template
from curate.train.scripts import render, write_launch
from curate.train.verl_env import compose, find_verl

RECORDER = f"""#!{sys.executable}
import json, os, sys
keys = ("SLURM_NODEID", "MASTER_ADDR", "MASTER_PORT", "VERL_FILE_LOGGER_PATH")
with open(os.environ["RECORD"], "a") as log:
    log.write(json.dumps({{"argv": sys.argv[1:], "env": {{k: os.environ.get(k) for k in keys}}}}) + "\\n")
"""
# srun: run the task once per node, as SLURM would, with that node's id.
SRUN = """#!/usr/bin/env bash
while [[ "$1" == --* ]]; do shift; done
for ((node = 0; node < SLURM_NNODES; node++)); do SLURM_NODEID=$node "$@"; done
"""
SCONTROL = """#!/usr/bin/env bash
[[ "$1 $2 $3" == "show hostnames gpu[07-10]" ]] && printf 'gpu07\\ngpu08\\ngpu09\\ngpu10\\n'
"""


def tools(tmp_path: Path) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in (("torchrun", RECORDER), ("srun", SRUN), ("scontrol", SCONTROL)):
        path = bin_dir / name
        path.write_text(text)
        path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "RECORD": str(tmp_path / "record.jsonl")}


def records(tmp_path: Path) -> list[dict]:
    return [json.loads(line) for line in (tmp_path / "record.jsonl").read_text().splitlines()]


def test_local_script_passes_the_overrides_verbatim(curated: Path, tmp_path: Path, tiny_model: Path) -> None:
    plan = build_plan(
        Request(curated, model=str(tiny_model), gpus_per_node=2, batch_size=4, ckpt_dir=tmp_path / "ck")
    )
    written = write_launch(plan)
    assert written.script == curated.resolve() / "train.sh" and os.access(written.script, os.X_OK)
    result = subprocess.run(
        ["bash", str(written.script), "optim.lr=3e-5"], env=tools(tmp_path), capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    (run,) = records(tmp_path)
    head = ["--standalone", "--nnodes=1", "--nproc_per_node=2", "-m", "verl.trainer.sft_trainer"]
    assert run["argv"] == [*head, *plan.hydra_overrides(), "optim.lr=3e-5"]
    logger = Path(run["env"]["VERL_FILE_LOGGER_PATH"])
    assert logger.parent == tmp_path / "ck" / "metrics" and logger.parent.is_dir()
    assert plan.merge_command() in result.stdout
    install = find_verl()
    assert install is not None
    config = compose(install, run["argv"][len(head) :])
    assert config.model.custom_chat_template == training_chat_template()
    assert config.optim.lr == 3e-5 and config.data.max_length == plan.data.longest


def test_slurm_script_starts_one_ranked_torchrun_per_node(curated: Path, tmp_path: Path) -> None:
    plan = build_plan(
        Request(curated, preset="qwen3-4b-45k", scheduler="slurm", batch_size=16, ckpt_dir=tmp_path / "ck")
    )
    written = write_launch(plan)
    text = written.script.read_text()
    assert written.script.name == "train.sbatch"
    for line in ("#SBATCH --nodes=4", "#SBATCH --ntasks-per-node=1", "#SBATCH --gpus-per-node=4"):
        assert line in text.splitlines()
    env = {**tools(tmp_path), "SLURM_NNODES": "4", "SLURM_JOB_NODELIST": "gpu[07-10]"}
    result = subprocess.run(["bash", str(written.script)], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    runs = records(tmp_path)
    assert [r["env"]["SLURM_NODEID"] for r in runs] == ["0", "1", "2", "3"]
    for node, run in enumerate(runs):
        assert run["argv"] == [
            "--nnodes=4",
            "--nproc_per_node=4",
            f"--node_rank={node}",
            "--master_addr=gpu07",
            "--master_port=29500",
            "-m",
            "verl.trainer.sft_trainer",
            *plan.hydra_overrides(),
        ]
    assert plan.merge_command() in result.stdout
    assert (tmp_path / "ck" / "metrics").is_dir()


@pytest.mark.parametrize("scheduler", ["local", "slurm"])
def test_scripts_are_valid_bash_and_the_record_matches(curated: Path, scheduler: str) -> None:
    nodes = {"nnodes": 2} if scheduler == "slurm" else {}
    plan = build_plan(
        Request(
            curated, model="Qwen/Qwen3-4B-Base", gpus_per_node=2, batch_size=4, scheduler=scheduler, **nodes
        )
    )
    written = write_launch(plan)
    assert written.script.read_text() == render(plan)
    assert subprocess.run(["bash", "-n", str(written.script)]).returncode == 0
    document = yaml.safe_load(written.overrides.read_text())
    assert document["overrides"] == plan.overrides
    assert document["steps"] == {
        "per_epoch": plan.steps_per_epoch,
        "total": plan.total_steps,
        "last_checkpoint": str(plan.last_checkpoint),
    }
    assert document["merge"] == plan.merge_command()
    leftovers = [p.name for p in curated.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []
