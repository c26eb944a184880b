"""`curate train` as a user runs it: dry run, one-line errors, and what happens without a GPU or sbatch."""

from __future__ import annotations

import dataclasses
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from curate.errors import CurateError
from curate.train.launch import prepare, start
from curate.train.plan import Request


def curate(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "curate.cli", "train", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
    )


def test_dry_run_prints_and_writes_the_script(curated: Path, tmp_path: Path) -> None:
    result = curate(
        str(curated), "--model", "Qwen/Qwen3-4B-Base", "--gpus-per-node", "2", "--batch-size", "4",
        "--dry-run", "--", "trainer.logger=[console]", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    script = (curated / "train.sh").read_text()
    assert result.stdout == script
    assert "torchrun --standalone --nnodes=1 --nproc_per_node=2 -m verl.trainer.sft_trainer" in script
    assert "  'trainer.logger=[console]'\n)" in script  # the extra override comes last
    err = result.stderr
    assert "Qwen/Qwen3-4B-Base, preset default, 1 node(s) x 2 GPUs; 19 rows" in err
    assert "(checked against verl 0.9.1)" in err
    ckpt = tmp_path / "checkpoints" / "curate-sft" / "qwen3-4b-base-out"
    assert f"--local_dir {ckpt}/global_step_8 --target_dir {ckpt}/merged/global_step_8" in err


def test_list_presets() -> None:
    result = curate("--list-presets")
    assert result.returncode == 0
    assert [line.split(":")[0] for line in result.stdout.splitlines()] == [
        "default",
        "qwen3-4b-45k",
        "qwen3-8b-90k",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--batch-size", "5"], "data.train_batch_size=5 is not a multiple of 2 data-parallel GPUs"),
        (
            ["--", "data.nope=1"],
            "verl 0.9.1 rejects an override: Could not override 'data.nope'. (Key 'nope' is not in struct)",
        ),
        (["--preset", "qwen3-9b"], "unknown preset 'qwen3-9b'"),
        (["--scheduler", "pbs"], "--scheduler pbs: expected local or slurm"),
    ],
)
def test_errors_are_one_line(curated: Path, args: list[str], message: str) -> None:
    base = [
        str(curated),
        "--model",
        "Qwen/Qwen3-4B-Base",
        "--gpus-per-node",
        "2",
        "--batch-size",
        "4",
        "--dry-run",
    ]
    result = curate(*base, *args)
    assert result.returncode == 2
    assert result.stderr.startswith("curate: error: ") and result.stderr.count("\n") == 1
    assert message in result.stderr


def test_missing_dir_and_folder_without_data(tmp_path: Path) -> None:
    result = curate("--model", "Qwen/Qwen3-4B-Base")
    assert result.returncode == 2 and "missing DIR" in result.stderr
    result = curate(str(tmp_path), "--model", "Qwen/Qwen3-4B-Base")
    assert result.returncode == 2 and f"{tmp_path}: no train.parquet here" in result.stderr


def test_an_older_verl_fails_in_one_line(curated: Path, tmp_path: Path) -> None:
    """verl 0.4 had `fsdp_sft_trainer` and no `sft_trainer`: a stand-in install of that layout comes first on
    the path, as a stale environment would."""
    site = tmp_path / "site"
    (site / "verl" / "trainer").mkdir(parents=True)
    (site / "verl" / "__init__.py").write_text("")
    (site / "verl" / "trainer" / "__init__.py").write_text("")
    (site / "verl" / "trainer" / "fsdp_sft_trainer.py").write_text("")
    dist = site / "verl-0.4.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: verl\nVersion: 0.4.1\n")
    result = curate(
        str(curated), "--model", "Qwen/Qwen3-4B-Base", "--gpus-per-node", "2", "--batch-size", "4", "--dry-run",
        env={"PYTHONPATH": str(site)},
    )  # fmt: skip
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert (
        "verl 0.4.1 is installed (no verl.trainer.sft_trainer); curate train needs verl 0.9.x (tested with 0.9.1)"
        in result.stderr
    )


def test_without_a_gpu_it_points_at_the_script(curated: Path) -> None:
    result = curate(
        str(curated), "--model", "Qwen/Qwen3-4B-Base", "--gpus-per-node", "2", "--batch-size", "4"
    )
    assert result.returncode == 2
    assert (
        f"no CUDA GPU is visible on this machine (run {curated}/train.sh on a machine with 2 GPUs)"
        in result.stderr
    )
    prepared = prepare(Request(curated, model="Qwen/Qwen3-4B-Base", gpus_per_node=2, batch_size=4))
    with pytest.raises(
        CurateError, match=r"verl is not installed \(pip install 'curate\[verl\]', then run: bash "
    ):
        start(dataclasses.replace(prepared, validated_with=None))


def test_slurm_submits_with_sbatch(curated: Path, tmp_path: Path) -> None:
    args = [str(curated), "--preset", "qwen3-4b-45k", "--scheduler", "slurm", "--batch-size", "16"]
    result = curate(*args, env={"PATH": f"{tmp_path}:/usr/bin:/bin"})
    assert (
        result.returncode == 2
        and "sbatch is not on PATH (submit it from a SLURM login node: sbatch " in result.stderr
    )
    sbatch = tmp_path / "sbatch"
    sbatch.write_text(
        f'#!/usr/bin/env bash\necho "$@" > {tmp_path}/submitted\necho "Submitted batch job 42"\n'
    )
    sbatch.chmod(sbatch.stat().st_mode | stat.S_IEXEC)
    result = curate(*args, env={"PATH": f"{tmp_path}:{os.environ['PATH']}"})
    assert result.returncode == 0, result.stderr
    assert "Submitted batch job 42" in result.stdout
    assert (tmp_path / "submitted").read_text().strip() == str(curated / "train.sbatch")
